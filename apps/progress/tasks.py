"""Periodic tasks of progress."""

from celery import shared_task
from django.conf import settings

from apps.audit.services import partitions_archive
from apps.core.services import maintenance_run


@shared_task(name="progress.tasks.archive_old_activity")
def archive_old_activity() -> list[str]:
    """Beat: move activity partitions past ACTIVITY_RETENTION_MONTHS to the archive schema."""
    with maintenance_run(task="archive_activity") as run:
        archived = partitions_archive(
            table="progress.activity", keep_months=settings.ACTIVITY_RETENTION_MONTHS
        )
        run.details = {item.partition: item.row_count for item in archived}
    return [item.partition for item in archived]
