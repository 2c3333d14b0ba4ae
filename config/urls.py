from django.contrib import admin
from django.urls import include, path, re_path

from apps.core.api.exceptions import api_not_found

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("apps.accounts.urls")),
    path("api/v1/", include(("config.api_urls", "api"), namespace="api")),
    re_path(r"^api/", api_not_found),
    path("", include("apps.progress.urls")),
    path("", include("apps.content.urls")),
    path("assistants/", include("apps.assistants.urls")),
    path("analytics/", include("apps.analytics.urls")),
    path("billing/", include("apps.billing.urls")),
    path("", include("apps.core.urls")),
]

handler403 = "apps.core.views.permission_denied"
handler404 = "apps.core.views.page_not_found"
handler500 = "apps.core.views.server_error"
