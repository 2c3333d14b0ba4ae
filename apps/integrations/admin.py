"""Webhook endpoints (managed here too) and the delivery log with "redeliver"; bulk enrollment
jobs and their rows, read-only."""

from django import forms
from django.contrib import admin, messages

from apps.integrations.models import (
    WEBHOOK_EVENT_TYPES,
    BulkEnrollmentJob,
    BulkEnrollmentRow,
    WebhookDelivery,
    WebhookEndpoint,
)
from apps.integrations.services import webhooks


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        fields = ("owner", "url", "description", "event_types", "is_active")
        help_texts = {"event_types": "Comma-separated: " + ", ".join(WEBHOOK_EVENT_TYPES)}

    def clean_event_types(self):
        chosen = self.cleaned_data["event_types"]
        unknown = sorted(set(chosen) - set(WEBHOOK_EVENT_TYPES))
        if unknown or not chosen:
            raise forms.ValidationError(f"Unknown event types: {', '.join(unknown) or 'none'}.")
        return chosen


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("url", "owner", "is_active", "consecutive_failures", "disabled_at")
    list_filter = ("is_active",)
    search_fields = ("url", "description")
    fields = (
        "owner",
        "url",
        "description",
        "event_types",
        "is_active",
        "secret",
        "consecutive_failures",
        "disabled_at",
        "disabled_reason",
    )
    readonly_fields = ("secret", "consecutive_failures", "disabled_at", "disabled_reason")
    raw_id_fields = ("owner",)
    actions = ["rotate_secret"]

    def save_model(self, request, obj, form, change):
        if change:
            changes = {f: form.cleaned_data[f] for f in form.changed_data if f != "owner"}
            webhooks.endpoint_update(endpoint=obj, **changes)
            if "owner" in form.changed_data:
                obj.save(update_fields=["owner"])
        else:
            created = webhooks.endpoint_create(
                owner=obj.owner,
                url=obj.url,
                event_types=obj.event_types,
                description=obj.description,
                is_active=obj.is_active,
            )
            obj.pk, obj.secret = created.pk, created.secret

    @admin.action(description="Rotate the signing secret")
    def rotate_secret(self, request, queryset):
        for endpoint in queryset:
            webhooks.endpoint_rotate_secret(endpoint=endpoint)
        self.message_user(request, f"{len(queryset)} secret(s) rotated.", messages.SUCCESS)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(_ReadOnly):
    list_display = (
        "created_at",
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "last_duration_ms",
        "next_attempt_at",
    )
    list_filter = ("status", "event_type")
    search_fields = ("id", "event_id", "endpoint__url")
    date_hierarchy = "created_at"
    list_select_related = ("endpoint",)
    actions = ["redeliver"]

    @admin.action(description="Redeliver the selected deliveries now")
    def redeliver(self, request, queryset):
        for delivery in queryset:
            webhooks.delivery_redeliver(delivery=delivery)
        self.message_user(request, f"{len(queryset)} deliveries queued again.", messages.SUCCESS)


class BulkEnrollmentRowInline(admin.TabularInline):
    model = BulkEnrollmentRow
    fields = ("row_number", "email", "course_ref", "outcome", "code", "message")
    readonly_fields = fields
    can_delete = False
    max_num = 0
    show_change_link = False

    verbose_name_plural = "rows with errors"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(outcome="error")


@admin.register(BulkEnrollmentJob)
class BulkEnrollmentJobAdmin(_ReadOnly):
    list_display = (
        "created_at",
        "owner",
        "source",
        "status",
        "total_rows",
        "processed_rows",
        "enrolled",
        "already_enrolled",
        "failed",
    )
    list_filter = ("status", "source")
    list_select_related = ("owner",)
    inlines = [BulkEnrollmentRowInline]
