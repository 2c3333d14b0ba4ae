"""URLs for tests/core/test_database_outage.py: views that meet a database outage."""

from django.db import InterfaceError, OperationalError
from django.urls import path


def unreachable(request):
    raise OperationalError("connection refused")


def closed(request):
    raise InterfaceError("connection already closed")


def bug(request):
    raise ValueError("a bug, not an outage")


urlpatterns = [
    path("api/v1/unreachable/", unreachable),
    path("unreachable/", unreachable),
    path("closed/", closed),
    path("bug/", bug),
]
handler500 = "apps.core.views.server_error"
