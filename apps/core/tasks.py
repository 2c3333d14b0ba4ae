"""Periodic tasks of core."""

import socket

from celery import shared_task
from django.db import transaction

from apps.core import partitions, services


@shared_task(name="core.tasks.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Run by a worker on beat's schedule: proves both beat and a worker are alive."""
    hostname = heartbeat.request.hostname or socket.gethostname()
    services.heartbeat_record(hostname=hostname)


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Send `task` once the current transaction commits (requests are atomic), never if it rolls
    back. Outside a transaction it is sent at once."""
    transaction.on_commit(lambda: task.delay(*args, **kwargs))


@shared_task(name="core.tasks.partitions_ensure")
def ensure_partitions() -> dict[str, int]:
    """Beat: keep monthly partitions created ahead of need."""
    return partitions.partitions_ensure()
