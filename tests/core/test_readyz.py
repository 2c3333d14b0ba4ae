"""/readyz: everything /healthz checks, plus migrations applied and beat running."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from apps.core.services import heartbeat_record

pytestmark = pytest.mark.django_db


def beat_ran(seconds_ago: int) -> None:
    every, _ = IntervalSchedule.objects.get_or_create(every=30, period="seconds")
    PeriodicTask.objects.update_or_create(
        name="core: worker heartbeat",
        defaults={
            "task": "core.tasks.heartbeat",
            "interval": every,
            "enabled": True,
            "last_run_at": timezone.now() - timedelta(seconds=seconds_ago),
        },
    )


def test_green_when_everything_runs(client):
    heartbeat_record(hostname="worker@t")
    beat_ran(5)
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert set(response.json()["checks"]) == {"database", "redis", "worker", "migrations", "beat"}


def test_red_when_beat_stopped(client):
    heartbeat_record(hostname="worker@t")
    beat_ran(3600)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["beat"]["ok"] is False


def test_red_when_redis_is_down_then_green_again(client, settings):
    heartbeat_record(hostname="worker@t")
    beat_ran(5)
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    assert client.get("/readyz").status_code == 503
    settings.REDIS_URL = "redis://127.0.0.1:6379/15"
    assert client.get("/readyz").status_code == 200


def test_migrations_check_reports_applied(client):
    assert client.get("/readyz").json()["checks"]["migrations"] == {"ok": True, "detail": "ok"}
