from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from oauth2_provider import urls as oauth2_urls
from oauth2_provider import views as oauth2_views

from apps.core.api.exceptions import api_not_found
from apps.core.ratelimit import page_rate_limit, too_many_token_requests

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("apps.accounts.urls")),
    path("api/v1/", include(("config.api_urls", "api"), namespace="api")),
    # OAuth 2 (ADR 0018): authorize, token, revoke_token, introspect; no self-service app pages.
    # The token endpoint first, rate-limited per address (ADR 0016).
    path(
        "oauth/token/",
        page_rate_limit("oauth_token", respond=too_many_token_requests)(
            oauth2_views.TokenView.as_view()
        ),
    ),
    path("oauth/", include((oauth2_urls.base_urlpatterns, "oauth2_provider"))),
    re_path(r"^api/", api_not_found),
    path("", include("apps.progress.urls")),
    path("", include("apps.content.urls")),
    path("assistants/", include("apps.assistants.urls")),
    path("analytics/", include("apps.analytics.urls")),
    path("billing/", include("apps.billing.urls")),
    path("", include("apps.core.urls")),
]

# The benchmark's framework ceilings (bench/run.py): only under config/settings/bench.py.
if getattr(settings, "BENCHMARK", False):
    from apps.core import benchmark

    urlpatterns.insert(0, path("bench/bare/", benchmark.bare))
    urlpatterns.insert(0, path("bench/bare-sql/", benchmark.bare_sql))

handler403 = "apps.core.views.permission_denied"
handler404 = "apps.core.views.page_not_found"
handler500 = "apps.core.views.server_error"
