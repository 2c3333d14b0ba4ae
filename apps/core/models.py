"""Shared abstract models and the few tables core itself keeps (in `public`)."""

import uuid

import pgtrigger
from django.db import models


class UUIDModel(models.Model):
    """Entities get UUID primary keys; append-only, high-volume tables use bigint ids instead."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)

    class Meta:
        abstract = True


class TimeStampedModel(models.Model):
    """`created_at` set on insert; `updated_at` kept by a database trigger, raw SQL included."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        triggers = [
            pgtrigger.Trigger(
                name="set_updated_at",
                operation=pgtrigger.Update,
                when=pgtrigger.Before,
                func="NEW.updated_at = now(); RETURN NEW;",
            )
        ]


class WorkerHeartbeat(models.Model):
    """The last time each Celery worker ran the beat-scheduled heartbeat task."""

    hostname = models.CharField(max_length=255, unique=True)
    last_seen_at = models.DateTimeField()
    beats = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(beats__gte=0), name="beats_gte_0")]

    def __str__(self) -> str:
        return f"{self.hostname} @ {self.last_seen_at:%Y-%m-%d %H:%M:%S}"
