"""The audit browser (row-level events across every tracked model) and the domain event store.

pghistory's admin app registers the browser for settings.PGHISTORY_ADMIN_MODEL with
PGHISTORY_ADMIN_CLASS (both point here); every tracked model's change page links to its events.
"""

import uuid
from datetime import datetime, time

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.utils import timezone
from pghistory.admin import EventsAdmin

from apps.audit.models import ArchivedPartition, DomainEventEntry


class InputFilter(admin.SimpleListFilter):
    """A list filter that is a text box (for ids, e-mails and dates)."""

    template = "admin/audit/input_filter.html"
    input_type = "text"

    def lookups(self, request, model_admin):
        return ((),)  # never empty, so the filter is shown

    def choices(self, changelist):
        all_choice = next(super().choices(changelist))
        all_choice["query_parts"] = [
            (name, value)
            for name, values in changelist.get_filters_params().items()
            if name != self.parameter_name
            for value in (values if isinstance(values, list) else [values])
        ]
        yield all_choice


class ActorFilter(InputFilter):
    title = "actor (e-mail or id)"
    parameter_name = "actor"

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        if not value:
            return queryset
        try:
            user_id = uuid.UUID(value)
        except ValueError:
            user = get_user_model().all_objects.filter(email__iexact=value).first()
            user_id = user.pk if user else None
        if user_id is None:
            return queryset.none()
        return queryset.filter(pgh_context__user=str(user_id))


class RequestIdFilter(InputFilter):
    title = "request id"
    parameter_name = "request_id"

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        return queryset.filter(pgh_context__request_id=value) if value else queryset


class _DateFilter(InputFilter):
    input_type = "date"
    end_of_day = False

    def bound(self):
        try:
            day = datetime.strptime((self.value() or "").strip(), "%Y-%m-%d").date()
        except ValueError:
            return None
        return timezone.make_aware(datetime.combine(day, time.max if self.end_of_day else time.min))


class SinceFilter(_DateFilter):
    title = "from (date)"
    parameter_name = "since"

    def queryset(self, request, queryset):
        bound = self.bound()
        return queryset.filter(pgh_created_at__gte=bound) if bound else queryset


class UntilFilter(_DateFilter):
    title = "until (date)"
    parameter_name = "until"
    end_of_day = True

    def queryset(self, request, queryset):
        bound = self.bound()
        return queryset.filter(pgh_created_at__lte=bound) if bound else queryset


class AuditEventAdmin(EventsAdmin):
    """pghistory's events browser with filters by actor, request id and date range."""

    list_display = [
        "pgh_created_at",
        "pgh_label",
        "pgh_obj_model",
        "pgh_obj_id",
        "pgh_diff",
        "user",
        "request_id",
        "method",
        "url",
        "task",
        "command",
    ]

    def get_list_display(self, request):
        return self.list_display

    def get_list_filter(self, request):
        return [
            *super().get_list_filter(request),
            ActorFilter,
            RequestIdFilter,
            SinceFilter,
            UntilFilter,
        ]


@admin.register(DomainEventEntry)
class DomainEventAdmin(admin.ModelAdmin):
    list_display = (
        "occurred_at",
        "event_type",
        "aggregate_type",
        "aggregate_id",
        "version",
        "actor",
        "correlation_id",
    )
    list_filter = ("event_type", "aggregate_type")
    search_fields = ("=aggregate_id", "=correlation_id", "=event_id")
    date_hierarchy = "occurred_at"
    list_select_related = ("actor",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ArchivedPartition)
class ArchivedPartitionAdmin(admin.ModelAdmin):
    list_display = ("partition", "parent", "row_count", "archived_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
