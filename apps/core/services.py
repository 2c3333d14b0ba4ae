"""Writes owned by core."""

from django.db import models, transaction
from django.utils import timezone

from apps.core.models import WorkerHeartbeat


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
