"""Analytics API: export jobs (start, poll, download) and engagement analysis."""

import datetime as dt

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.analytics import selectors, services
from apps.analytics.models import ExportJob, ExportKind, ExportStatus
from apps.content.models import Course
from apps.core.api.conditional import ConditionalGetMixin
from apps.core.api.pagination import PageNumberPagination
from apps.core.exceptions import DomainError, PermissionDeniedError


class ExportOutput(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    params = serializers.DictField()
    status = serializers.CharField()
    progress_percent = serializers.IntegerField()
    rows = serializers.IntegerField()
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, job) -> str | None:
        if job.status != ExportStatus.DONE or not job.file:
            return None
        return reverse("api:analytics:export_download", args=[job.pk])


class ExportListApi(APIView):
    """My export jobs; POST starts one (202: poll its URL until status is done)."""

    scope_resource = "analytics"
    pagination_class = PageNumberPagination

    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=ExportKind.choices)
        course = serializers.UUIDField(required=False)
        since = serializers.DateField(required=False)
        until = serializers.DateField(required=False)

    @extend_schema(responses=ExportOutput(many=True), operation_id="analytics_exports_list")
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.my_exports(owner=request.user), request, view=self
        )
        return paginator.get_paginated_response(ExportOutput(page, many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={202: ExportOutput},
        operation_id="analytics_exports_create",
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        kind = values.pop("kind")
        job = services.export_job_create(owner=request.user, kind=kind, params=values)
        return Response(ExportOutput(job).data, status=status.HTTP_202_ACCEPTED)


class ExportDetailApi(ConditionalGetMixin, APIView):
    """Poll one of my export jobs."""

    scope_resource = "analytics"

    @extend_schema(responses=ExportOutput, operation_id="analytics_exports_retrieve")
    def get(self, request, job_id):
        job = get_object_or_404(ExportJob, pk=job_id, owner=request.user)
        return Response(ExportOutput(job).data)


class ExportDownloadApi(APIView):
    """The CSV of a finished export job (until it expires)."""

    scope_resource = "analytics"

    @extend_schema(
        responses={(200, "text/csv"): OpenApiTypes.BINARY},
        operation_id="analytics_exports_download",
    )
    def get(self, request, job_id):
        job = get_object_or_404(ExportJob, pk=job_id, owner=request.user)
        if job.status != ExportStatus.DONE or not job.file:
            raise Http404
        return FileResponse(
            job.file.open("rb"),
            as_attachment=True,
            filename=job.file.name.rsplit("/", 1)[-1],
            content_type="text/csv",
        )


class EngagementApi(APIView):
    """Engagement of a user over a period against the previous period of the same length.

    Yourself by default; another user only in a course you teach (`course` required), or any
    user for staff. The period defaults to the last 30 days.
    """

    scope_resource = "analytics"

    class InputSerializer(serializers.Serializer):
        user = serializers.UUIDField(required=False)
        course = serializers.UUIDField(required=False)
        start = serializers.DateTimeField(required=False)
        end = serializers.DateTimeField(required=False)

        def validate(self, attrs):
            end = attrs.get("end") or timezone.now()
            start = attrs.get("start") or end - dt.timedelta(days=30)
            if end <= start:
                raise serializers.ValidationError({"end": ["Must be after start."]})
            if end - start > dt.timedelta(days=366):
                raise serializers.ValidationError({"start": ["At most a year."]})
            return {**attrs, "start": start, "end": end}

    class OutputSerializer(serializers.Serializer):
        class MetricSerializer(serializers.Serializer):
            name = serializers.CharField()
            value = serializers.DecimalField(max_digits=14, decimal_places=1)
            previous = serializers.DecimalField(max_digits=14, decimal_places=1)
            trend = serializers.DecimalField(max_digits=10, decimal_places=1, allow_null=True)

        user = serializers.UUIDField(source="user_id")
        course = serializers.UUIDField(source="course_id", allow_null=True)
        start = serializers.DateTimeField()
        end = serializers.DateTimeField()
        metrics = MetricSerializer(many=True)
        most_viewed_lesson = serializers.UUIDField(allow_null=True)

    @extend_schema(
        parameters=[
            OpenApiParameter("user", OpenApiTypes.UUID),
            OpenApiParameter("course", OpenApiTypes.UUID),
            OpenApiParameter("start", OpenApiTypes.DATETIME),
            OpenApiParameter("end", OpenApiTypes.DATETIME),
        ],
        responses=OutputSerializer,
        operation_id="analytics_engagement",
    )
    def get(self, request):
        data = self.InputSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        user_id = values.get("user") or request.user.pk
        course = None
        if values.get("course"):
            course = get_object_or_404(Course.all_objects, pk=values["course"])
        allowed = (
            user_id == request.user.pk
            or request.user.is_staff
            or (course is not None and selectors.can_teach(user=request.user, course=course))
        )
        if not allowed:
            raise PermissionDeniedError(
                "Only the learner, the course's teachers and staff may see this."
            )
        try:
            result = selectors.engagement(
                user_id=user_id,
                course_id=course.pk if course else None,
                start=values["start"],
                end=values["end"],
            )
        except ValueError as error:
            raise DomainError(str(error)) from error
        return Response(self.OutputSerializer(result).data)
