"""Writes owned by audit: the domain event store and the archive of old partitions."""

import uuid
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from pghistory import runtime as pghistory_runtime

from apps.audit.models import ArchivedPartition, DomainEvent
from apps.core.db.bulk import insert_unnest

# Context keys copied from the current request/task/command into each event's metadata.
_CONTEXT_KEYS = ("request_id", "url", "method", "ip", "user_agent", "task", "task_id", "command")


def current_context():
    """The audit (pghistory) context of the current request, task or command, if any: its `id`
    and `metadata` (user, request_id, ip, user_agent, url, task, command...)."""
    return getattr(pghistory_runtime._tracker, "value", None)


def _next_version(*, aggregate_type: str, aggregate_id) -> int:
    # The upsert takes the counter row's lock until commit: concurrent writers to one aggregate
    # queue here, and a rollback returns the number, so versions are 1..N without gaps.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO "audit"."aggregate_version" (aggregate_type, aggregate_id, version)
            VALUES (%s, %s, 1)
            ON CONFLICT (aggregate_type, aggregate_id)
            DO UPDATE SET version = "audit"."aggregate_version".version + 1
            RETURNING version
            """,
            [aggregate_type, aggregate_id],
        )
        return cursor.fetchone()[0]


def _event_context(*, actor, correlation_id, metadata: dict[str, Any] | None):
    """(actor id, correlation id, metadata) of events recorded now: explicit values first, else
    the current audit context's user and id (a new correlation id outside any context), with
    the context's request/task facts merged under `metadata`."""
    context = current_context()
    context_metadata = context.metadata if context is not None else {}
    if correlation_id is None:
        correlation_id = context.id if context is not None else uuid.uuid4()
    if actor is None and context_metadata.get("user"):
        actor_id = uuid.UUID(str(context_metadata["user"]))
    else:
        actor_id = getattr(actor, "pk", actor)
    merged = {k: context_metadata[k] for k in _CONTEXT_KEYS if context_metadata.get(k)}
    merged.update(metadata or {})
    return actor_id, correlation_id, merged


def domain_event_record(
    *,
    aggregate_type: str,
    aggregate_id,
    event_type: str,
    data: dict[str, Any] | None = None,
    actor=None,
    correlation_id=None,
    causation_id=None,
    metadata: dict[str, Any] | None = None,
) -> DomainEvent:
    """Append a business event to the store, in the caller's transaction.

    The version is the aggregate's next one. Without an explicit correlation id, the events of
    one request, task or command share the id of its audit context (which also links them to the
    row-level audit events); the actor defaults to the context's user.
    """
    actor_id, correlation_id, merged = _event_context(
        actor=actor, correlation_id=correlation_id, metadata=metadata
    )
    with transaction.atomic():
        version = _next_version(aggregate_type=aggregate_type, aggregate_id=aggregate_id)
        return DomainEvent.objects.create(
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            event_type=event_type,
            version=version,
            data=data or {},
            metadata=merged,
            actor_id=actor_id,
            correlation_id=correlation_id,
            causation_id=causation_id,
            occurred_at=timezone.now(),
        )


def domain_events_record_many(
    *,
    aggregate_type: str,
    events: list[tuple[Any, str, dict[str, Any]]],
    actor=None,
    correlation_id=None,
    causation_id=None,
    metadata: dict[str, Any] | None = None,
) -> int:
    """Append one event to each of many aggregates, in the caller's transaction, in two
    statements whatever their number: `events` is `(aggregate_id, event_type, data)` per event.
    Returns how many.

    Each event gets its aggregate's next version from one set-based upsert of the counters (the
    same rows, locks and gap-free numbering as domain_event_record), so the aggregates must be
    distinct (ValueError otherwise: one statement cannot bump a counter twice). Actor, context
    metadata and correlation are as in domain_event_record; without a context the events of one
    call share one new correlation id (they are one operation).
    """
    if not events:
        return 0
    ids = [str(aggregate_id) for aggregate_id, _type, _data in events]
    if len(set(ids)) != len(ids):
        raise ValueError("domain_events_record_many needs distinct aggregates.")
    actor_id, correlation_id, merged = _event_context(
        actor=actor, correlation_id=correlation_id, metadata=metadata
    )
    now = timezone.now()
    # No savepoint: a bulk caller's transaction stays one (sub)transaction.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO "audit"."aggregate_version" (aggregate_type, aggregate_id, version)
            SELECT %s, a, 1 FROM unnest(%s::uuid[]) AS a
            ON CONFLICT (aggregate_type, aggregate_id)
            DO UPDATE SET version = "audit"."aggregate_version".version + 1
            RETURNING aggregate_id::text, version
            """,
            [aggregate_type, ids],
        )
        versions = dict(cursor.fetchall())
    template = DomainEvent(
        aggregate_type=aggregate_type,
        metadata=merged,
        actor_id=actor_id,
        correlation_id=correlation_id,
        causation_id=causation_id,
        occurred_at=now,
    )
    insert_unnest(
        DomainEvent,
        template=template,
        varying={
            "event_id": [uuid.uuid4() for _event in events],
            "aggregate_id": [aggregate_id for aggregate_id, _type, _data in events],
            "event_type": [event_type for _id, event_type, _data in events],
            "version": [versions[str(aggregate_id)] for aggregate_id, _type, _data in events],
            "data": [data or {} for _id, _type, data in events],
        },
    )
    return len(events)


def partitions_archive(*, table: str, keep_months: int) -> list[ArchivedPartition]:
    """Detach the monthly partitions of `table` older than `keep_months` and keep them in the
    `archive` schema, recording each. Nothing is deleted."""
    archived = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT partition_name, row_count "
            "FROM public.lyceum_archive_partitions(%s::regclass, %s)",
            [table, keep_months],
        )
        for name, rows in cursor.fetchall():
            archived.append(
                ArchivedPartition.objects.create(parent=table, partition=name, row_count=rows)
            )
    return archived
