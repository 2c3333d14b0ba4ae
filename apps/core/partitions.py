"""Monthly partitions of the time-partitioned tables (functions in core migration 0004)."""

from django.conf import settings
from django.db import connection


def partitions_ensure(*, months_ahead: int | None = None) -> dict[str, int]:
    """Create the missing monthly partitions of every table in settings.MONTHLY_PARTITIONED_TABLES
    for this month and the next `months_ahead`. Returns how many were created per table."""
    months_ahead = settings.PARTITION_MONTHS_AHEAD if months_ahead is None else months_ahead
    created = {}
    with connection.cursor() as cursor:
        for table in settings.MONTHLY_PARTITIONED_TABLES:
            cursor.execute(
                "SELECT public.lyceum_ensure_monthly_partitions(%s::regclass, %s, 0)",
                [table, months_ahead],
            )
            created[table] = cursor.fetchone()[0]
    return created
