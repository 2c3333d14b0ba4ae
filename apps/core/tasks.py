"""Periodic tasks of core."""

import socket

from celery import shared_task
from django.db import transaction

from apps.core import partitions, services
from apps.core.models import TaskOutbox


@shared_task(name="core.tasks.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Run by a worker on beat's schedule: proves both beat and a worker are alive."""
    hostname = heartbeat.request.hostname or socket.gethostname()
    services.heartbeat_record(hostname=hostname)


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Send `task` once the current transaction commits, never if it rolls back, and never lose
    it: the wish is stored in the same transaction (TaskOutbox) and relayed later if the broker
    is unreachable at commit. Tasks sent this way must be idempotent (a relay may repeat one)."""
    entry = TaskOutbox.objects.create(task_name=task.name, args=list(args), kwargs=kwargs)
    transaction.on_commit(lambda: services.outbox_send(entry_id=entry.pk))


@shared_task(name="core.tasks.outbox_relay")
def outbox_relay() -> int:
    """Beat: send the tasks whose sending failed (the broker was down). Returns how many."""
    return services.outbox_relay()


@shared_task(name="core.tasks.partitions_ensure")
def ensure_partitions() -> dict[str, int]:
    """Beat: keep monthly partitions created ahead of need."""
    with services.maintenance_run(task="partitions_ensure") as run:
        run.details = partitions.partitions_ensure()
    return run.details


@shared_task(name="core.tasks.analyze_tables")
def analyze_tables(force: bool = False) -> dict[str, dict]:
    """Beat (hourly), or after a bulk load: ANALYZE the big tables that changed enough."""
    with services.maintenance_run(task="analyze_tables") as run:
        run.details = services.tables_analyze(force=force)
    return run.details


@shared_task(name="core.tasks.clear_sessions")
def clear_sessions() -> int:
    """Beat (daily): delete expired sessions."""
    with services.maintenance_run(task="clear_sessions") as run:
        run.details = {"deleted": services.sessions_clear()}
    return run.details["deleted"]


@shared_task(name="core.tasks.clear_tokens")
def clear_tokens() -> dict:
    """Beat (daily): delete expired OAuth tokens, lockout attempts and old idempotency keys."""
    with services.maintenance_run(task="clear_tokens") as run:
        run.details = services.tokens_clear()
    return run.details
