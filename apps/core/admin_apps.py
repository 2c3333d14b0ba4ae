from django.contrib.admin.apps import AdminConfig


class LyceumAdminConfig(AdminConfig):
    """Django admin with Lyceum's site: staff with a verified second factor only."""

    default_site = "apps.core.admin_site.LyceumAdminSite"
