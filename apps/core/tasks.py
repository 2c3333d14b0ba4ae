"""Periodic tasks of core."""

import socket

from celery import shared_task

from apps.core import services


@shared_task(name="core.tasks.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Run by a worker on beat's schedule: proves both beat and a worker are alive."""
    hostname = heartbeat.request.hostname or socket.gethostname()
    services.heartbeat_record(hostname=hostname)
