"""The audit schema: the domain event store, its version counters, and a read model over
pghistory's row-level events with the request/task/command context spread into fields.

pghistory's own event tables (`audit"."<app>_<model>_event`) belong to the tracked models' apps.
"""

import uuid

import pghistory.models
import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone
from pghistory.core import ProxyField


class DomainEvent(models.Model):
    """A business fact ("course.published", "enrollment.created"), written by a service in the
    same transaction as the change. Partitioned by month on occurred_at (migration 0001)."""

    pk = models.CompositePrimaryKey("id", "occurred_at")
    id = models.BigIntegerField(
        editable=False,
        db_default=models.Func(models.Value("audit.events_id_seq"), function="nextval"),
    )
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    event_id = models.UUIDField(default=uuid.uuid4, editable=False)
    aggregate_type = models.CharField(max_length=100)
    aggregate_id = models.UUIDField()
    event_type = models.CharField(max_length=100)
    version = models.PositiveIntegerField(help_text="1, 2, 3... per aggregate, without gaps.")
    data = models.JSONField(default=dict)
    metadata = models.JSONField(default=dict)
    causation_id = models.UUIDField(null=True, blank=True)
    correlation_id = models.UUIDField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,  # the trail outlives any user row
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        db_table = 'audit"."events'
        ordering = ["occurred_at", "id"]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]

    def __str__(self) -> str:
        return f"{self.aggregate_type}:{self.aggregate_id} v{self.version} {self.event_type}"


class DomainEventEntry(models.Model):
    """The same table read through `event_id` as the key, for the admin (which cannot show
    models with a composite primary key). Read-only and unmanaged."""

    event_id = models.UUIDField(primary_key=True)
    occurred_at = models.DateTimeField()
    aggregate_type = models.CharField(max_length=100)
    aggregate_id = models.UUIDField()
    event_type = models.CharField(max_length=100)
    version = models.PositiveIntegerField()
    data = models.JSONField()
    metadata = models.JSONField()
    causation_id = models.UUIDField(null=True)
    correlation_id = models.UUIDField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )

    class Meta:
        managed = False
        db_table = 'audit"."events'
        verbose_name = "domain event"
        ordering = ["-occurred_at"]

    def __str__(self) -> str:
        return f"{self.aggregate_type}:{self.aggregate_id} v{self.version} {self.event_type}"


class AggregateVersion(models.Model):
    """The last version handed out per aggregate. Incremented with an upsert that holds the row
    lock until commit, so concurrent writers queue and versions stay 1..N without gaps."""

    aggregate_type = models.CharField(max_length=100)
    aggregate_id = models.UUIDField()
    version = models.PositiveIntegerField()

    class Meta:
        db_table = 'audit"."aggregate_version'
        constraints = [
            models.UniqueConstraint(
                fields=["aggregate_type", "aggregate_id"], name="aggregate_version_unique"
            ),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="version_gte_1"),
        ]

    def __str__(self) -> str:
        return f"{self.aggregate_type}:{self.aggregate_id} v{self.version}"


class ArchivedPartition(models.Model):
    """A monthly partition the retention task detached and moved to the `archive` schema."""

    parent = models.CharField(max_length=200)
    partition = models.CharField(max_length=200, unique=True)
    row_count = models.BigIntegerField()
    archived_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = 'audit"."archived_partition'
        ordering = ["-archived_at"]

    def __str__(self) -> str:
        return self.partition


class AuditEvent(pghistory.models.Events):
    """Every row-level event across the tracked models, with its context as fields."""

    user = ProxyField(
        "pgh_context__user",
        models.ForeignKey(
            settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, null=True, related_name="+"
        ),
    )
    url = ProxyField("pgh_context__url", models.TextField(null=True))
    method = ProxyField("pgh_context__method", models.TextField(null=True))
    request_id = ProxyField("pgh_context__request_id", models.TextField(null=True))
    ip = ProxyField("pgh_context__ip", models.TextField(null=True))
    user_agent = ProxyField("pgh_context__user_agent", models.TextField(null=True))
    task = ProxyField("pgh_context__task", models.TextField(null=True))
    command = ProxyField("pgh_context__command", models.TextField(null=True))

    class Meta:
        proxy = True
        verbose_name = "audit event"
        verbose_name_plural = "audit events"
