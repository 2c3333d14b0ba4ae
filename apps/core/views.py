"""Pages and endpoints of the shell: home, health, error pages."""

import sys

from django.db import InterfaceError, OperationalError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from apps.core import metrics as metrics_export
from apps.core import selectors
from apps.core.api.exceptions import json_error_response


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html")


@never_cache
@require_GET
@transaction.non_atomic_requests
def healthz(request: HttpRequest) -> JsonResponse:
    """Database, Redis and worker heartbeat; 503 when any of them is down."""
    return _report(selectors.health_report())


@never_cache
@require_GET
@transaction.non_atomic_requests
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: database, Redis, worker heartbeat, migrations applied, beat running."""
    return _report(selectors.readiness_report())


@never_cache
@require_GET
@transaction.non_atomic_requests
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics, for allowed networks or the bearer token only (settings.METRICS_*)."""
    allowed = metrics_export.scrape_allowed(
        remote_addr=request.META.get("REMOTE_ADDR", ""),
        authorization=request.headers.get("Authorization", ""),
    )
    if not allowed:
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
    return HttpResponse(metrics_export.exposition(), content_type=CONTENT_TYPE_LATEST)


def _report(checks) -> JsonResponse:
    healthy = all(check.ok for check in checks.values())
    body = {
        "status": "ok" if healthy else "unavailable",
        "checks": {name: check.as_dict() for name, check in checks.items()},
    }
    return JsonResponse(body, status=200 if healthy else 503)


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    if _wants_json(request):
        return json_error_response(404, "not_found", "Not found.")
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if isinstance(sys.exc_info()[1], (OperationalError, InterfaceError)):
        return service_unavailable(request)
    if _wants_json(request):
        return json_error_response(500, "server_error", "Internal server error.")
    return render(request, "500.html", status=500)


def service_unavailable(request: HttpRequest) -> HttpResponse:
    """The database is unreachable (down, restarting, refusing connections): 503 at once, with
    no database access (the page is rendered without context processors), so the client can
    retry and a load balancer can tell an outage from a bug. Reached through handler500 for a
    database error raised by a view or a middleware (docs/adr/0015)."""
    if _wants_json(request):
        response = json_error_response(
            503, "service_unavailable", "The service is temporarily unavailable; try again."
        )
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = "5"
    return response


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    if _wants_json(request):
        return json_error_response(403, "permission_denied", "Permission denied.")
    return render(request, "403.html", status=403)
