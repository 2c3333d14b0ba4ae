"""Periodic tasks of audit."""

from celery import shared_task
from django.conf import settings

from apps.audit import services
from apps.core.services import maintenance_run


@shared_task(name="audit.tasks.archive_old_partitions")
def archive_old_partitions() -> list[str]:
    """Beat: move domain-event partitions past the retention period to the archive schema."""
    with maintenance_run(task="archive_audit_events") as run:
        archived = services.partitions_archive(
            table="audit.events", keep_months=settings.AUDIT_RETENTION_MONTHS
        )
        run.details = {item.partition: item.row_count for item in archived}
    return [item.partition for item in archived]
