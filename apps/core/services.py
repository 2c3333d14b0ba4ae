"""Writes owned by core."""

import logging
from datetime import timedelta

from celery import current_app
from django.db import models, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from apps.core.models import TaskOutbox, WorkerHeartbeat

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
