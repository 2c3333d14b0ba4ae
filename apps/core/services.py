"""Writes owned by core."""

import contextlib
import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from axes.models import AccessAttempt
from celery import current_app
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection, models, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from apps.core import selectors
from apps.core.models import IdempotencyKey, MaintenanceRun, TaskOutbox, WorkerHeartbeat

logger = logging.getLogger(__name__)


def heartbeat_record(*, hostname: str) -> WorkerHeartbeat:
    """Record that the worker `hostname` is alive now (one row per worker, upserted)."""
    with transaction.atomic():
        heartbeat, created = WorkerHeartbeat.objects.select_for_update().get_or_create(
            hostname=hostname, defaults={"last_seen_at": timezone.now(), "beats": 1}
        )
        if not created:
            WorkerHeartbeat.objects.filter(pk=heartbeat.pk).update(
                last_seen_at=timezone.now(), beats=models.F("beats") + 1
            )
            heartbeat.refresh_from_db()
    return heartbeat


def outbox_send(*, entry_id: int) -> bool:
    """Send one outbox entry to the broker and mark it sent; on a broker error, record it and
    leave the entry for the relay. Returns whether it was sent."""
    entry = TaskOutbox.objects.filter(pk=entry_id, sent_at__isnull=True).first()
    if entry is None:
        return False
    try:
        current_app.send_task(entry.task_name, args=entry.args, kwargs=entry.kwargs)
    except (OperationalError, OSError) as error:
        logger.warning("task %s kept in the outbox: %s", entry.task_name, error)
        TaskOutbox.objects.filter(pk=entry.pk).update(
            attempts=models.F("attempts") + 1, last_error=str(error)[:1000]
        )
        return False
    TaskOutbox.objects.filter(pk=entry.pk).update(
        sent_at=timezone.now(), attempts=models.F("attempts") + 1
    )
    return True


def outbox_relay(*, older_than_seconds: int = 10, batch: int = 200) -> int:
    """Send pending outbox entries older than a few seconds (younger ones are still being sent
    by their own commit hook). Rows are claimed with SKIP LOCKED so relays never collide."""
    sent = 0
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    with transaction.atomic():
        pending = list(
            TaskOutbox.objects.select_for_update(skip_locked=True)
            .filter(sent_at__isnull=True, created_at__lte=cutoff)
            .order_by("created_at")[:batch]
        )
        for entry in pending:
            sent += outbox_send(entry_id=entry.pk)
    return sent


# -- maintenance ---------------------------------------------------------------------------


@contextlib.contextmanager
def maintenance_run(*, task: str) -> Iterator[MaintenanceRun]:
    """Record one run of a maintenance task (admin: Maintenance runs). Yields the run, whose
    `details` the caller fills; marks it ok when the block ends, or failed with the error (which
    is re-raised)."""
    run = MaintenanceRun.objects.create(task=task)
    try:
        yield run
    except Exception as exc:
        MaintenanceRun.objects.filter(pk=run.pk).update(
            outcome=MaintenanceRun.Outcome.FAILED,
            finished_at=timezone.now(),
            details=run.details,
            error=f"{exc.__class__.__name__}: {exc}"[:4000],
        )
        raise
    MaintenanceRun.objects.filter(pk=run.pk).update(
        outcome=MaintenanceRun.Outcome.OK, finished_at=timezone.now(), details=run.details
    )
    run.refresh_from_db()


def tables_analyze(*, force: bool = False) -> dict[str, dict]:
    """ANALYZE each table of settings.MAINTENANCE_ANALYZE_TABLES that changed enough since the
    last time this ran (rows inserted, updated or deleted >= ANALYZE_CHANGED_FRACTION of its
    rows, at least ANALYZE_MIN_CHANGED_ROWS), or all of them with `force`. Autovacuum never
    analyzes a partitioned parent, and on big tables it waits for 10 % of the rows to change;
    this catches bulk loads sooner. Returns, per table, whether it was analyzed and why."""
    previous = selectors.maintenance_last_details(task="analyze_tables")
    report = {}
    with connection.cursor() as cursor:
        for table in settings.MAINTENANCE_ANALYZE_TABLES:
            changes, rows = selectors.table_change_counters(table=table)
            seen = previous.get(table, {}).get("changes")
            changed = None if seen is None or changes < seen else changes - seen
            threshold = max(
                settings.ANALYZE_MIN_CHANGED_ROWS, round(rows * settings.ANALYZE_CHANGED_FRACTION)
            )
            analyze = force or changed is None or changed >= threshold
            if analyze:
                cursor.execute("SELECT public.lyceum_analyze(%s::regclass)", [table])
            else:
                changes = seen  # measure from the last ANALYZE, not from this look
            report[table] = {
                "analyzed": analyze,
                "changed_rows": changed,
                "threshold": threshold,
                "rows": rows,
                "changes": changes,
            }
    return report


def sessions_clear(*, now=None) -> int:
    """Delete expired sessions (they are kept in the database). Returns how many."""
    deleted, _ = Session.objects.filter(expire_date__lt=now or timezone.now()).delete()
    return deleted


def tokens_clear(*, now=None) -> dict[str, int | str]:
    """Delete what has expired: OAuth tokens and grants (django-oauth-toolkit's cleartokens,
    when installed), login lockout attempts past their cool-off, idempotency keys past
    IDEMPOTENCY_KEY_RETENTION_DAYS. Password-reset and e-mail links are signed, not stored."""
    now = now or timezone.now()
    report: dict[str, int | str] = {}
    if django_apps.is_installed("oauth2_provider"):
        call_command("cleartokens")
        report["oauth"] = "cleartokens run"
    report["lockout_attempts"] = AccessAttempt.objects.filter(
        attempt_time__lt=now - settings.AXES_COOLOFF_TIME
    ).delete()[0]
    report["idempotency_keys"] = IdempotencyKey.objects.filter(
        applied_at__lt=now - timedelta(days=settings.IDEMPOTENCY_KEY_RETENTION_DAYS)
    ).delete()[0]
    return report


# -- idempotency ---------------------------------------------------------------------------


def idempotent_apply(*, key: str, scope: str, apply: Callable[[], Any]) -> tuple[bool, Any]:
    """Run `apply` once per `key`, ever: the key is claimed (INSERT ... ON CONFLICT DO NOTHING)
    in the same transaction as the change, so a delivery that dies midway leaves no key and the
    next one applies; a later delivery finds the key and applies nothing. A concurrent delivery
    waits on the key until the first commits or rolls back. Returns (applied now, result); for
    a repeat, the result stored by the first run. `apply` must return JSON-serialisable data."""
    table = connection.ops.quote_name(IdempotencyKey._meta.db_table)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (key, scope, applied_at) VALUES (%s, %s, now()) "  # noqa: S608
                "ON CONFLICT (key) DO NOTHING",
                [key, scope],
            )
            claimed = cursor.rowcount == 1
        if not claimed:
            return False, IdempotencyKey.objects.get(pk=key).result
        result = apply()
        IdempotencyKey.objects.filter(pk=key).update(result=result)
    return True, result
