"""The admin site: staff only, and only with a verified second factor."""

from django.contrib import admin, messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from apps.core import selectors


class LyceumAdminSite(admin.AdminSite):
    site_header = "Lyceum administration"
    site_title = "Lyceum admin"
    index_title = "Administration"

    def has_permission(self, request) -> bool:
        user = request.user
        return super().has_permission(request) and user.is_verified()

    def login(self, request, extra_context=None):
        """Log in through the site's own pages, which ask for the second factor."""
        next_url = request.GET.get("next") or reverse("admin:index")
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = reverse("admin:index")
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(next_url, reverse("accounts:login"))
        if not user.is_staff or not user.is_active:
            return render(request, "403.html", status=403)
        if not user.is_verified():
            messages.info(
                request,
                "The admin needs two-factor authentication: "
                "confirm a code from your authenticator app to continue.",
            )
            return redirect_to_login(next_url, reverse("accounts:two_factor"))
        return HttpResponseRedirect(next_url)

    def get_urls(self):
        return [
            path(
                "database-health/",
                self.admin_view(self.database_health),
                name="database_health",
            ),
            *super().get_urls(),
        ]

    def get_app_list(self, request, app_label=None):
        """Core's section also lists the database health page (it has no model)."""
        app_list = super().get_app_list(request, app_label)
        for app in app_list:
            if app["app_label"] == "core":
                app["models"].append(
                    {
                        "name": "Database health",
                        "object_name": "DatabaseHealth",
                        "admin_url": reverse("admin:database_health", current_app=self.name),
                        "add_url": None,
                        "view_only": True,
                        "perms": {"view": True},
                    }
                )
        return app_list

    def database_health(self, request):
        """pg_stat_statements' top statements and table and index bloat (staff only)."""
        context = {
            **self.each_context(request),
            "title": "Database health",
            "statements": selectors.top_statements(limit=25),
            "tables": selectors.table_bloat(limit=25),
            "indexes": selectors.index_bloat(limit=25),
            "partitions": selectors.partition_coverage(),
            "maintenance": selectors.maintenance_last_runs(),
        }
        return render(request, "admin/core/database_health.html", context)
