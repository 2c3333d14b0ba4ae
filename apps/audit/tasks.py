"""Periodic tasks of audit."""

from celery import shared_task
from django.conf import settings

from apps.audit import services


@shared_task(name="audit.tasks.archive_old_partitions")
def archive_old_partitions() -> list[str]:
    """Beat: move domain-event partitions past the retention period to the archive schema."""
    archived = services.partitions_archive(
        table="audit.events", keep_months=settings.AUDIT_RETENTION_MONTHS
    )
    return [item.partition for item in archived]
