"""Integrations API: bulk enrollment jobs (upload, poll, row results, result CSV) and webhook
endpoints (staff: register, change, rotate the secret, ping, list deliveries)."""

import csv
import io

from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.pagination import PageNumberPagination
from apps.core.exceptions import DomainError, PermissionDeniedError
from apps.core.spreadsheet import cell_safe
from apps.integrations import selectors
from apps.integrations.models import (
    WEBHOOK_EVENT_TYPES,
    BulkEnrollmentJob,
    RowOutcome,
    WebhookEndpoint,
)
from apps.integrations.services import bulk, webhooks

MAX_UPLOAD_BYTES = 5 * 1024 * 1024

# -- bulk enrollment ----------------------------------------------------------------------


class BulkJobOutput(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    source = serializers.CharField()
    filename = serializers.CharField()
    total_rows = serializers.IntegerField()
    processed_rows = serializers.IntegerField()
    progress_percent = serializers.IntegerField()
    enrolled = serializers.IntegerField()
    already_enrolled = serializers.IntegerField()
    failed = serializers.IntegerField()
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    url = serializers.SerializerMethodField()
    rows_url = serializers.SerializerMethodField()
    results_csv_url = serializers.SerializerMethodField()

    def get_url(self, job) -> str:
        return reverse("api:integrations:bulk_job", args=[job.pk])

    def get_rows_url(self, job) -> str:
        return reverse("api:integrations:bulk_job_rows", args=[job.pk])

    def get_results_csv_url(self, job) -> str:
        return reverse("api:integrations:bulk_job_csv", args=[job.pk])


def _csv_rows(upload) -> list[dict]:
    if upload.size > MAX_UPLOAD_BYTES:
        raise DomainError("The file is larger than 5 MB.", fields={"file": ["Too large."]})
    try:
        text = upload.read().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DomainError("The file is not UTF-8 text.", fields={"file": ["Not UTF-8."]}) from error
    reader = csv.DictReader(io.StringIO(text))
    header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    if "email" not in header:
        raise DomainError(
            "The CSV needs a header row with an `email` column (and `course`).",
            code="bad_header",
            fields={"file": ["No email column."]},
        )
    reader.fieldnames = header
    rows = []
    for row in reader:
        rows.append({"email": row.get("email") or "", "course": row.get("course") or ""})
        if len(rows) > bulk.MAX_ROWS:
            break
    return rows


class BulkEnrollmentApi(APIView):
    """My bulk enrollment jobs; POST starts one from a CSV file (multipart field `file`, header
    `email,course`; course is an id or slug, or give `course` once for every row) or a JSON list
    of `{"email", "course"}` objects (or `{"course": ..., "rows": [...]}`). 202: poll `url`."""

    scope_resource = "enrollments"
    pagination_class = PageNumberPagination
    parser_classes = [JSONParser, MultiPartParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(required=False, help_text="CSV with header email,course")
        course = serializers.CharField(required=False, help_text="Default course: id or slug")

    class RowSerializer(serializers.Serializer):
        email = serializers.CharField(allow_blank=True, required=False)
        course = serializers.CharField(allow_blank=True, required=False)

    @extend_schema(responses=BulkJobOutput(many=True), operation_id="enrollments_bulk_list")
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.my_bulk_jobs(owner=request.user), request, view=self
        )
        return paginator.get_paginated_response(BulkJobOutput(page, many=True).data)

    @extend_schema(
        request={
            "multipart/form-data": InputSerializer,
            "application/json": RowSerializer(many=True),
        },
        responses={202: BulkJobOutput},
        operation_id="enrollments_bulk_create",
    )
    def post(self, request):
        data = request.data
        default_course = ""
        if "file" in request.FILES:
            upload = request.FILES["file"]
            rows, source, filename = _csv_rows(upload), "csv", upload.name or ""
            default_course = str(data.get("course") or "")
        else:
            if isinstance(data, dict):
                default_course = str(data.get("course") or "")
                data = data.get("rows")
            if not isinstance(data, list):
                raise DomainError(
                    "Send a CSV file (multipart `file`) or a JSON list of rows.",
                    fields={"file": ["Missing."]},
                )
            if len(data) > bulk.MAX_ROWS:
                data = data[: bulk.MAX_ROWS + 1]  # the service refuses it with a clear message
            rows = [row if isinstance(row, dict) else {"email": ""} for row in data]
            rows = [
                {"email": str(row.get("email") or ""), "course": str(row.get("course") or "")}
                for row in rows
            ]
            source, filename = "json", ""
        job = bulk.bulk_enrollment_create(
            owner=request.user,
            rows=rows,
            source=source,
            filename=filename,
            default_course=default_course,
        )
        response = Response(BulkJobOutput(job).data, status=status.HTTP_202_ACCEPTED)
        response["Location"] = reverse("api:integrations:bulk_job", args=[job.pk])
        return response


def _my_job(request, job_id) -> BulkEnrollmentJob:
    return get_object_or_404(BulkEnrollmentJob, pk=job_id, owner=request.user)


class BulkEnrollmentDetailApi(APIView):
    """Poll one of my bulk jobs: status and counts."""

    scope_resource = "enrollments"

    @extend_schema(responses=BulkJobOutput, operation_id="enrollments_bulk_retrieve")
    def get(self, request, job_id):
        return Response(BulkJobOutput(_my_job(request, job_id)).data)


class BulkEnrollmentRowsApi(APIView):
    """The rows of one of my bulk jobs in file order with their outcome (`?outcome=error` for
    the bad ones only)."""

    scope_resource = "enrollments"
    pagination_class = PageNumberPagination

    class OutputSerializer(serializers.Serializer):
        row = serializers.IntegerField(source="row_number")
        email = serializers.CharField()
        course = serializers.CharField(source="course_ref")
        outcome = serializers.CharField()
        code = serializers.CharField()
        message = serializers.CharField()
        enrollment = serializers.UUIDField(source="enrollment_id", allow_null=True)

    @extend_schema(
        parameters=[OpenApiParameter("outcome", enum=RowOutcome.values)],
        responses=OutputSerializer(many=True),
        operation_id="enrollments_bulk_rows",
    )
    def get(self, request, job_id):
        job = _my_job(request, job_id)
        outcome = request.query_params.get("outcome")
        if outcome and outcome not in RowOutcome.values:
            raise DomainError("Unknown outcome.", fields={"outcome": list(RowOutcome.values)})
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.bulk_job_rows(job=job, outcome=outcome), request, view=self
        )
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class _Echo:
    def write(self, value):
        return value


class BulkEnrollmentResultsCsvApi(APIView):
    """Every row of one of my bulk jobs with its outcome, as CSV."""

    scope_resource = "enrollments"

    @extend_schema(
        responses={(200, "text/csv"): OpenApiTypes.BINARY}, operation_id="enrollments_bulk_csv"
    )
    def get(self, request, job_id):
        job = _my_job(request, job_id)
        writer = csv.writer(_Echo())

        def lines():
            yield writer.writerow(["row", "email", "course", "outcome", "code", "message"])
            for row in selectors.bulk_job_rows(job=job).iterator(chunk_size=2000):
                cells = [row.row_number, row.email, row.course_ref, row.outcome, row.code]
                cells.append(row.message)
                yield writer.writerow([cell_safe(cell) for cell in cells])

        response = StreamingHttpResponse(lines(), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="bulk-{job.pk}.csv"'
        return response


# -- webhooks -----------------------------------------------------------------------------


def _require_staff(request) -> None:
    if not request.user.is_staff:
        raise PermissionDeniedError(
            "Only staff manage webhooks (they carry events of the whole platform)."
        )


class EndpointOutput(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.URLField()
    description = serializers.CharField()
    event_types = serializers.ListField(child=serializers.CharField())
    is_active = serializers.BooleanField()
    consecutive_failures = serializers.IntegerField()
    disabled_at = serializers.DateTimeField(allow_null=True)
    disabled_reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class EndpointWithSecretOutput(EndpointOutput):
    secret = serializers.CharField(help_text="Shown when created or rotated only.")


class EndpointInput(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=WEBHOOK_EVENT_TYPES), allow_empty=False
    )
    is_active = serializers.BooleanField(required=False)


def _endpoint(request, endpoint_id) -> WebhookEndpoint:
    _require_staff(request)
    return get_object_or_404(selectors.my_endpoints(owner=request.user), pk=endpoint_id)


class WebhookEndpointListApi(APIView):
    """Webhook endpoints (staff); POST registers one and answers its signing secret once."""

    scope_resource = "webhooks"
    pagination_class = PageNumberPagination

    @extend_schema(responses=EndpointOutput(many=True), operation_id="webhooks_endpoints_list")
    def get(self, request):
        _require_staff(request)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.my_endpoints(owner=request.user), request, view=self
        )
        return paginator.get_paginated_response(EndpointOutput(page, many=True).data)

    @extend_schema(
        request=EndpointInput,
        responses={201: EndpointWithSecretOutput},
        operation_id="webhooks_endpoints_create",
    )
    def post(self, request):
        _require_staff(request)
        data = EndpointInput(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = webhooks.endpoint_create(owner=request.user, **data.validated_data)
        return Response(EndpointWithSecretOutput(endpoint).data, status=status.HTTP_201_CREATED)


class WebhookEndpointDetailApi(APIView):
    """One webhook endpoint: read, change (PATCH), delete."""

    scope_resource = "webhooks"

    @extend_schema(responses=EndpointOutput, operation_id="webhooks_endpoints_retrieve")
    def get(self, request, endpoint_id):
        return Response(EndpointOutput(_endpoint(request, endpoint_id)).data)

    @extend_schema(
        request=EndpointInput(partial=True),
        responses=EndpointOutput,
        operation_id="webhooks_endpoints_update",
    )
    def patch(self, request, endpoint_id):
        endpoint = _endpoint(request, endpoint_id)
        data = EndpointInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        endpoint = webhooks.endpoint_update(endpoint=endpoint, **data.validated_data)
        return Response(EndpointOutput(endpoint).data)

    @extend_schema(responses={204: None}, operation_id="webhooks_endpoints_destroy")
    def delete(self, request, endpoint_id):
        _endpoint(request, endpoint_id).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookEndpointRotateApi(APIView):
    """A new signing secret for the endpoint (answered once)."""

    scope_resource = "webhooks"

    @extend_schema(
        request=None, responses=EndpointWithSecretOutput, operation_id="webhooks_endpoints_rotate"
    )
    def post(self, request, endpoint_id):
        endpoint = webhooks.endpoint_rotate_secret(endpoint=_endpoint(request, endpoint_id))
        return Response(EndpointWithSecretOutput(endpoint).data)


class WebhookEndpointPingApi(APIView):
    """Record a `webhook.ping` event: endpoints subscribed to it get a delivery."""

    scope_resource = "webhooks"

    @extend_schema(request=None, responses={202: None}, operation_id="webhooks_endpoints_ping")
    def post(self, request, endpoint_id):
        webhooks.endpoint_ping(endpoint=_endpoint(request, endpoint_id), actor=request.user)
        return Response(status=status.HTTP_202_ACCEPTED)


class WebhookDeliveryListApi(APIView):
    """The delivery log of one endpoint, newest first."""

    scope_resource = "webhooks"
    pagination_class = PageNumberPagination

    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        event_id = serializers.UUIDField()
        event_type = serializers.CharField()
        status = serializers.CharField()
        attempts = serializers.IntegerField()
        next_attempt_at = serializers.DateTimeField()
        last_attempt_at = serializers.DateTimeField(allow_null=True)
        last_status_code = serializers.IntegerField(allow_null=True)
        last_response = serializers.CharField()
        last_error = serializers.CharField()
        last_duration_ms = serializers.IntegerField(allow_null=True)
        created_at = serializers.DateTimeField()
        delivered_at = serializers.DateTimeField(allow_null=True)
        payload = serializers.JSONField()

    @extend_schema(responses=OutputSerializer(many=True), operation_id="webhooks_deliveries_list")
    def get(self, request, endpoint_id):
        endpoint = _endpoint(request, endpoint_id)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.endpoint_deliveries(endpoint=endpoint), request, view=self
        )
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)
