"""The admin site: staff only, and only with a verified second factor."""

from django.contrib import admin, messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


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
