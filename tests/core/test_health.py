"""/healthz: database, Redis and the worker heartbeat; 503 when one is down."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.models import WorkerHeartbeat
from apps.core.services import heartbeat_record

pytestmark = pytest.mark.django_db


def test_all_green_with_a_recent_heartbeat(client):
    heartbeat_record(hostname="worker@test")
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is True
    assert body["checks"]["worker"]["ok"] is True
    assert body["checks"]["worker"]["hostname"] == "worker@test"


def test_no_heartbeat_yet_is_unavailable(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["worker"] == {
        "ok": False,
        "detail": "no heartbeat recorded yet",
        "last_heartbeat": None,
    }


def test_a_stale_heartbeat_is_unavailable(client, settings):
    WorkerHeartbeat.objects.create(
        hostname="worker@old",
        last_seen_at=timezone.now() - timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE + 5),
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"]["ok"] is False


def test_redis_down_is_unavailable(client, settings):
    heartbeat_record(hostname="worker@test")
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["redis"]["ok"] is False
    assert "redis unreachable" in checks["redis"]["detail"]
    assert checks["database"]["ok"] is True


def test_heartbeat_upserts_one_row_per_worker():
    heartbeat_record(hostname="worker@a")
    heartbeat_record(hostname="worker@a")
    heartbeat_record(hostname="worker@b")
    assert dict(WorkerHeartbeat.objects.values_list("hostname", "beats")) == {
        "worker@a": 2,
        "worker@b": 1,
    }


def test_healthz_is_not_cached(client):
    response = client.get("/healthz")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
