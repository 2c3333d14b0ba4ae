"""The REST API, version 1: /api/v1/."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.core.api.exceptions import api_not_found

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("accounts/", include("apps.accounts.api_urls")),
    path("rbac/", include("apps.rbac.api_urls")),
    path("audit/", include(("apps.audit.api_urls", "audit"))),
    path("content/", include("apps.content.api_urls")),
    path("progress/", include("apps.progress.api_urls")),
    path("billing/", include("apps.billing.api_urls")),
    path("assistants/", include("apps.assistants.api_urls")),
    path("analytics/", include("apps.analytics.api_urls")),
    # /api/v1/enrollments/bulk/... and /api/v1/webhooks/...
    path("", include("apps.integrations.api_urls")),
    re_path(r"^.*$", api_not_found),
]
