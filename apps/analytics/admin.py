"""Refresh runs of the materialized views (with "refresh now") and export jobs, read-only."""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from apps.analytics import selectors, services
from apps.analytics.models import VIEWS, ExportJob, RefreshRun


@admin.register(RefreshRun)
class RefreshRunAdmin(admin.ModelAdmin):
    list_display = ("view", "started_at", "duration_ms", "rows", "outcome", "error")
    list_filter = ("view", "outcome")
    date_hierarchy = "started_at"
    actions = ["refresh_now"]
    change_list_template = "admin/analytics/refreshrun_change_list.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _refresh(self, request, views) -> None:
        for view in views:
            run = services.view_refresh(view=view)
            level = messages.ERROR if run.outcome == "failed" else messages.SUCCESS
            if run.outcome == "skipped":
                level = messages.WARNING
            self.message_user(
                request, f"{view}: {run.get_outcome_display()} ({run.duration_ms} ms).", level
            )

    @admin.action(description="Refresh the views of the selected runs now")
    def refresh_now(self, request, queryset):
        self._refresh(request, sorted(set(queryset.values_list("view", flat=True))))

    def get_urls(self):
        return [
            path(
                "refresh/<str:view>/",
                self.admin_site.admin_view(require_POST(self.refresh_view)),
                name="analytics_refreshrun_refresh",
            ),
            *super().get_urls(),
        ]

    def refresh_view(self, request, view):
        if not request.user.is_staff or (view != "all" and view not in VIEWS):
            return HttpResponseRedirect(reverse("admin:analytics_refreshrun_changelist"))
        self._refresh(request, list(VIEWS) if view == "all" else [view])
        return HttpResponseRedirect(reverse("admin:analytics_refreshrun_changelist"))

    def changelist_view(self, request, extra_context=None):
        freshness = selectors.views_freshness(views=VIEWS)
        extra_context = {
            **(extra_context or {}),
            "analytics_views": [
                (view, freshness[view], minutes) for view, minutes in VIEWS.items()
            ],
        }
        return super().changelist_view(request, extra_context=extra_context)


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = (
        "kind",
        "owner",
        "status",
        "progress_percent",
        "rows",
        "created_at",
        "expires_at",
    )
    list_filter = ("kind", "status")
    search_fields = ("owner__email", "=id")
    list_select_related = ("owner",)
    readonly_fields = [f.name for f in ExportJob._meta.concrete_fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
