"""Audit API for staff: row-level events of an object or an actor, and domain events."""

from django.apps import apps as django_apps
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.views import APIView

from apps.audit import selectors
from apps.core.api.pagination import CursorPagination
from apps.core.api.permissions import HasResourceScope


class CanViewAudit(permissions.BasePermission):
    """Staff holding the audit.view permission (checked through the RBAC backend by name, so
    audit does not import rbac)."""

    message = "Only staff with the audit.view permission may read the audit trail."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(
            user and user.is_authenticated and user.is_staff and user.has_perm("rbac:audit.view")
        )


class AuditEventPagination(CursorPagination):
    ordering = ("pgh_created_at", "pgh_id")


class DomainEventPagination(CursorPagination):
    ordering = ("occurred_at", "version", "id")


class _AuditList(APIView):
    scope_resource = "audit"

    permission_classes = [CanViewAudit, HasResourceScope]

    def paginate(self, queryset, serializer_class):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        return paginator.get_paginated_response(serializer_class(page, many=True).data)


class AuditEventListApi(_AuditList):
    """Row-level changes: of one object (`model` + `object_id`), or by one actor in a period."""

    pagination_class = AuditEventPagination

    class FilterSerializer(serializers.Serializer):
        model = serializers.CharField(required=False, help_text="app_label.ModelName")
        object_id = serializers.CharField(required=False)
        actor = serializers.UUIDField(required=False)
        since = serializers.DateTimeField(required=False)
        until = serializers.DateTimeField(required=False)

        def validate(self, attrs):
            if "model" in attrs or "object_id" in attrs:
                if not ("model" in attrs and "object_id" in attrs):
                    raise ValidationError("Give both model and object_id.")
                try:
                    attrs["model_class"] = django_apps.get_model(attrs["model"])
                except (LookupError, ValueError) as exc:
                    raise ValidationError(
                        {"model": [f"Unknown model {attrs['model']!r}."]}
                    ) from exc
            elif "actor" not in attrs:
                raise ValidationError("Give model and object_id, or actor.")
            return attrs

    class OutputSerializer(serializers.Serializer):
        id = serializers.CharField(source="pgh_slug")
        created_at = serializers.DateTimeField(source="pgh_created_at")
        label = serializers.CharField(source="pgh_label")
        model = serializers.CharField(source="pgh_obj_model")
        object_id = serializers.CharField(source="pgh_obj_id")
        diff = serializers.JSONField(source="pgh_diff", help_text="field -> [old, new]")
        data = serializers.JSONField(source="pgh_data")
        context = serializers.JSONField(source="pgh_context")

    @extend_schema(
        parameters=[FilterSerializer],
        responses=OutputSerializer(many=True),
        operation_id="audit_events_list",
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        if "model_class" in data:
            model = data["model_class"]
            obj = model(pk=model._meta.pk.to_python(data["object_id"]))
            events = selectors.object_history(obj=obj)
        else:
            events = selectors.user_activity(
                user_id=data["actor"],
                start=data.get("since") or selectors.BEGINNING,
                end=data.get("until") or selectors.END,
            )
        return self.paginate(events, self.OutputSerializer)


class DomainEventListApi(_AuditList):
    """Domain events by aggregate, correlation id or actor, in order."""

    pagination_class = DomainEventPagination

    class FilterSerializer(serializers.Serializer):
        aggregate_type = serializers.CharField(required=False)
        aggregate_id = serializers.UUIDField(required=False)
        correlation_id = serializers.UUIDField(required=False)
        actor = serializers.UUIDField(required=False)

        def validate(self, attrs):
            if not attrs:
                raise ValidationError(
                    "Filter by aggregate_type/aggregate_id, correlation_id or actor."
                )
            return attrs

    class OutputSerializer(serializers.Serializer):
        event_id = serializers.UUIDField()
        occurred_at = serializers.DateTimeField()
        aggregate_type = serializers.CharField()
        aggregate_id = serializers.UUIDField()
        event_type = serializers.CharField()
        version = serializers.IntegerField()
        data = serializers.JSONField()
        metadata = serializers.JSONField()
        actor = serializers.UUIDField(source="actor_id", allow_null=True)
        correlation_id = serializers.UUIDField()
        causation_id = serializers.UUIDField(allow_null=True)

    @extend_schema(
        parameters=[FilterSerializer],
        responses=OutputSerializer(many=True),
        operation_id="audit_domain_events_list",
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        events = selectors.domain_events(
            aggregate_type=data.get("aggregate_type"),
            aggregate_id=data.get("aggregate_id"),
            correlation_id=data.get("correlation_id"),
            actor_id=data.get("actor"),
        )
        return self.paginate(events, self.OutputSerializer)
