"""Periodic tasks of progress."""

from celery import shared_task
from django.conf import settings

from apps.audit.services import partitions_archive


@shared_task(name="progress.tasks.archive_old_activity")
def archive_old_activity() -> list[str]:
    """Beat: move activity partitions past ACTIVITY_RETENTION_MONTHS to the archive schema."""
    archived = partitions_archive(
        table="progress.activity", keep_months=settings.ACTIVITY_RETENTION_MONTHS
    )
    return [item.partition for item in archived]
