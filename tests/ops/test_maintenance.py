"""Maintenance tasks: each run recorded (admin), ANALYZE after bulk changes, expiry."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.apps import apps
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from apps.audit.tasks import archive_old_partitions
from apps.core import selectors, services
from apps.core.models import IdempotencyKey, MaintenanceRun
from apps.core.tasks import analyze_tables, clear_sessions, clear_tokens, ensure_partitions
from apps.progress.tasks import archive_old_activity
from tests.conftest import database_connect
from tests.ops.metrics_helpers import scrape, value

pytestmark = pytest.mark.django_db


def test_the_maintenance_tasks_are_scheduled():
    tasks = set(PeriodicTask.objects.filter(enabled=True).values_list("task", flat=True))
    assert {
        "core.tasks.analyze_tables",
        "core.tasks.clear_sessions",
        "core.tasks.clear_tokens",
        "core.tasks.partitions_ensure",
        "audit.tasks.archive_old_partitions",
        "progress.tasks.archive_old_activity",
    } <= tasks


def test_every_maintenance_task_records_its_run(client):
    for task in (
        analyze_tables,
        clear_sessions,
        clear_tokens,
        ensure_partitions,
        archive_old_partitions,
        archive_old_activity,
    ):
        task.apply(throw=True)
    runs = {run.task: run for run in MaintenanceRun.objects.all()}
    assert set(runs) == {
        "analyze_tables",
        "clear_sessions",
        "clear_tokens",
        "partitions_ensure",
        "archive_audit_events",
        "archive_activity",
    }
    assert all(run.outcome == "ok" and run.finished_at for run in runs.values())
    samples = scrape(client)
    finished = "lyceum_maintenance_last_finished_timestamp_seconds"
    assert value(samples, finished, task="clear_sessions", outcome="ok") == pytest.approx(
        runs["clear_sessions"].finished_at.timestamp()
    )


def test_a_failed_run_is_recorded_with_its_error(monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "tables_analyze", broken)
    with pytest.raises(RuntimeError):
        analyze_tables.apply(throw=True)
    run = MaintenanceRun.objects.get()
    assert run.outcome == "failed" and "disk full" in run.error and run.finished_at


def test_analyze_runs_first_then_only_after_enough_changes(monkeypatch, settings):
    settings.MAINTENANCE_ANALYZE_TABLES = ["progress.activity", "audit.events"]
    settings.ANALYZE_MIN_CHANGED_ROWS = 1000
    settings.ANALYZE_CHANGED_FRACTION = 0.05
    counters = {"progress.activity": (500_000, 100_000), "audit.events": (10, 50)}
    monkeypatch.setattr(selectors, "table_change_counters", lambda *, table: counters[table])

    first = analyze_tables.apply(throw=True).get()
    assert all(item["analyzed"] for item in first.values())  # nothing known yet: analyze all

    counters["progress.activity"] = (504_000, 100_000)  # 4 000 changed < 5 % of 100 000
    counters["audit.events"] = (1_500, 50)  # 1 490 changed >= the 1 000 minimum (a bulk load)
    second = analyze_tables.apply(throw=True).get()
    assert second["progress.activity"]["analyzed"] is False
    assert second["progress.activity"]["changed_rows"] == 4_000
    assert second["audit.events"]["analyzed"] is True

    counters["progress.activity"] = (506_000, 100_000)  # 6 000 since the last ANALYZE: >= 5 %
    third = analyze_tables.apply(throw=True).get()
    assert third["progress.activity"] == {
        "analyzed": True,
        "changed_rows": 6_000,
        "threshold": 5_000,
        "rows": 100_000,
        "changes": 506_000,
    }
    assert third["audit.events"]["analyzed"] is False
    assert analyze_tables.apply(kwargs={"force": True}, throw=True).get()["audit.events"][
        "analyzed"
    ]


def test_the_app_role_can_analyze_only_through_the_function():
    with database_connect(app_role=True, autocommit=True) as conn:
        conn.execute("SELECT public.lyceum_analyze('progress.activity'::regclass)")
        with pytest.raises(Exception, match="not a table"):
            conn.execute("SELECT public.lyceum_analyze('public.lyceum_analyze'::regproc::oid)")


def test_table_change_counters_include_partitions():
    changes, rows = selectors.table_change_counters(table="progress.activity")
    assert changes >= 0 and rows >= 0


def test_expired_sessions_are_cleared():
    live = SessionStore()
    live.create()
    expired = SessionStore()
    expired.create()
    Session.objects.filter(pk=expired.session_key).update(
        expire_date=timezone.now() - timedelta(minutes=1)
    )
    assert clear_sessions.apply(throw=True).get() == 1
    assert list(Session.objects.values_list("pk", flat=True)) == [live.session_key]
    assert MaintenanceRun.objects.get().details == {"deleted": 1}


def test_expired_tokens_and_old_keys_are_cleared(settings):
    now = timezone.now()
    old, _recent = (
        AccessAttempt.objects.create(username=name, ip_address="10.0.0.1", failures_since_start=1)
        for name in ("old", "recent")
    )
    AccessAttempt.objects.filter(pk=old.pk).update(
        attempt_time=now - settings.AXES_COOLOFF_TIME - timedelta(minutes=1)
    )
    IdempotencyKey.objects.create(key="old", scope="test")
    IdempotencyKey.objects.create(key="new", scope="test")
    IdempotencyKey.objects.filter(pk="old").update(
        applied_at=now - timedelta(days=settings.IDEMPOTENCY_KEY_RETENTION_DAYS + 1)
    )
    report = clear_tokens.apply(throw=True).get()
    assert report["lockout_attempts"] == 1 and report["idempotency_keys"] == 1
    if apps.is_installed("oauth2_provider"):
        assert report["oauth"] == "cleartokens run"
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["recent"]
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def test_idempotent_apply_applies_a_key_once():
    calls = []

    def change():
        calls.append(1)
        return {"n": len(calls)}

    assert services.idempotent_apply(key="k1", scope="test", apply=change) == (True, {"n": 1})
    assert services.idempotent_apply(key="k1", scope="test", apply=change) == (False, {"n": 1})
    assert len(calls) == 1


def test_a_failed_apply_leaves_no_key():
    def fail():
        raise ValueError("boom")

    with pytest.raises(ValueError):
        services.idempotent_apply(key="k2", scope="test", apply=fail)
    assert not IdempotencyKey.objects.filter(pk="k2").exists()
    assert services.idempotent_apply(key="k2", scope="test", apply=lambda: 7) == (True, 7)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM core_idempotencykey WHERE key = 'k2'")
        assert cursor.fetchone()[0] == 1
