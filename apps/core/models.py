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


class BackupRecord(models.Model):
    """One run of `manage.py backup`: a pg_dump (custom format) and the roles it needs."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        OK = "ok", "OK"
        FAILED = "failed", "Failed"
        PRUNED = "pruned", "Pruned"

    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    database = models.CharField(max_length=200)
    path = models.CharField(max_length=500, blank=True)
    roles_path = models.CharField(max_length=500, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    roles_sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="ok") | ~models.Q(sha256=""), name="backup_ok_has_sha"
            )
        ]

    def __str__(self) -> str:
        return f"{self.database} {self.started_at:%Y-%m-%d %H:%M} ({self.status})"


class TaskOutbox(models.Model):
    """A Celery task to send, written in the transaction that wanted it. Sent after commit; if
    the broker is down then, the relay task sends it once Redis is back (nothing is lost)."""

    id = models.BigAutoField(primary_key=True)
    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(sent_at__isnull=True),
                name="task_outbox_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.task_name} ({'sent' if self.sent_at else 'pending'})"


class MaintenanceRun(models.Model):
    """One run of a maintenance task (ANALYZE, partitions, retention, expiry): shown in admin so
    operators see when each last ran and how it went."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        OK = "ok", "OK"
        FAILED = "failed", "Failed"

    id = models.BigAutoField(primary_key=True)
    task = models.CharField(max_length=100)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RUNNING)
    details = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["task", "-started_at"], name="maintenance_task_started")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outcome__in=["running", "ok", "failed"]),
                name="maintenance_outcome",
            ),
            models.CheckConstraint(
                condition=models.Q(outcome="running") | models.Q(finished_at__isnull=False),
                name="maintenance_finished_when_done",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task} {self.started_at:%Y-%m-%d %H:%M} ({self.outcome})"

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds(), 3)


class IdempotencyKey(models.Model):
    """A change already applied, by its idempotency key: a task delivered twice (a worker lost
    mid-task, an outbox relay) finds its key and applies nothing the second time."""

    key = models.CharField(max_length=200, primary_key=True)
    scope = models.CharField(max_length=100)
    applied_at = models.DateTimeField(auto_now_add=True, db_index=True)
    result = models.JSONField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.scope}: {self.key}"
