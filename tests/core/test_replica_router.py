"""The replica router without a real standby: no replica, a mirrored one, an unreachable one.

The router against a real streaming standby is tests/ops/test_replica.py."""

import time

import pytest
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.http import HttpResponse
from django.test import RequestFactory

from apps.analytics.models import RefreshRun
from apps.core.db import router
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_status():
    router.reset_replica_status()
    yield
    router.reset_replica_status()


def test_without_a_replica_nothing_changes(settings):
    assert "replica" not in settings.DATABASES
    assert "apps.core.db.router.ReplicaRouter" in settings.DATABASE_ROUTERS
    with router.request_scope(RequestFactory().get("/")):
        assert RefreshRun.objects.all().db == DEFAULT_DB_ALIAS
        assert router.ReplicaRouter().db_for_read(RefreshRun) is None
    with router.use_replica():
        assert RefreshRun.objects.all().db == DEFAULT_DB_ALIAS

    def writes(request):
        RefreshRun.objects.create(view="course_performance", outcome="refreshed")
        return HttpResponse("ok")

    response = router.ReplicaMiddleware(writes)(RequestFactory().post("/"))
    assert router.PIN_COOKIE not in response.cookies  # no replica: no pin


def test_a_test_mirror_is_not_a_replica(monkeypatch, settings):
    mirror = {**settings.DATABASES["default"], "TEST": {"MIRROR": "default"}}
    monkeypatch.setitem(settings.DATABASES, "replica", mirror)
    assert router.replica_alias() is None
    with router.request_scope(RequestFactory().get("/")):
        assert RefreshRun.objects.all().db == DEFAULT_DB_ALIAS


@pytest.mark.parametrize(
    ("sql", "writes"),
    [
        ('INSERT INTO "analytics"."refresh_run" ("view") VALUES (%s)', True),
        ('UPDATE "progress"."enrollment" SET "status" = %s', True),
        ('DELETE FROM "django_session" WHERE "session_key" = %s', True),
        ('SELECT "id" FROM "progress"."enrollment" WHERE "id" = %s FOR UPDATE', True),
        ("select 1 from progress.enrollment for no key update", True),
        ('SELECT "id" FROM "t" FOR KEY SHARE', True),
        ('SELECT "updated_at", "deleted_at", "inserted" FROM "content"."course"', False),
        ("SELECT pg_is_in_recovery()", False),
    ],
)
def test_writes_are_recognised(sql, writes):
    assert bool(router._WRITE_SQL.search(sql)) is writes


def test_a_recent_writer_is_pinned(settings):
    factory = RequestFactory()
    request = factory.get("/")
    request.COOKIES[router.PIN_COOKIE] = str(time.time() + 5)
    assert router._pinned_by_client(request)
    request.COOKIES[router.PIN_COOKIE] = str(time.time() - 1)
    assert not router._pinned_by_client(request)
    request.COOKIES[router.PIN_COOKIE] = "nonsense"
    assert not router._pinned_by_client(request)

    # Per user (API clients keep no cookies): the pin written with the response is found.
    user = UserFactory()
    request = factory.post("/")
    request.user = user
    response = HttpResponse()
    router.pin_response(request, response)
    assert float(response.cookies[router.PIN_COOKIE].value) > time.time()
    other = factory.get("/")
    other.user = user
    assert router._pinned_by_client(other)


@pytest.fixture
def unreachable_replica(monkeypatch, settings):
    """A `replica` alias whose server refuses connections (pytest-django forbids connecting
    to an alias the test did not declare, so the refusal is simulated)."""
    config = {**connections["default"].settings_dict, "PORT": 1, "ATOMIC_REQUESTS": False}
    monkeypatch.setitem(settings.DATABASES, "replica", config)
    monkeypatch.setitem(connections.settings, "replica", config)

    def refused():
        raise OperationalError("connection refused")

    monkeypatch.setattr(connections["replica"], "ensure_connection", refused)
    yield
    if hasattr(connections._connections, "replica"):
        connections["replica"].close()
        del connections["replica"]


def test_an_unreachable_replica_falls_back_to_the_primary(unreachable_replica):
    assert router.replica_alias() == "replica"
    with router.request_scope(RequestFactory().get("/")):
        assert RefreshRun.objects.all().db == DEFAULT_DB_ALIAS
        assert not RefreshRun.objects.exists()  # answered by the primary, no error
    status = router.replica_status()
    assert status is not None and not status.usable and "unreachable" in status.reason
    # Writes and everything outside a request never touch it.
    assert router.ReplicaRouter().db_for_write(RefreshRun) == DEFAULT_DB_ALIAS
    assert RefreshRun.objects.all().db == DEFAULT_DB_ALIAS
    assert router.ReplicaRouter().allow_migrate("replica", "analytics") is False


def test_the_middleware_pins_a_writing_client(unreachable_replica):
    def reads(request):
        RefreshRun.objects.exists()
        return HttpResponse("ok")

    def writes(request):
        RefreshRun.objects.create(view="course_performance", outcome="refreshed")
        return HttpResponse("ok")

    factory = RequestFactory()
    assert router.PIN_COOKIE not in router.ReplicaMiddleware(reads)(factory.get("/")).cookies
    response = router.ReplicaMiddleware(writes)(factory.post("/"))
    assert float(response.cookies[router.PIN_COOKIE].value) > time.time()
