"""Reads owned by core: the health of the parts Lyceum depends on."""

import dataclasses
from datetime import UTC, datetime

import redis
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from apps.core.models import MaintenanceRun, WorkerHeartbeat


@dataclasses.dataclass(frozen=True)
class Check:
    ok: bool
    detail: str
    extra: dict = dataclasses.field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "detail": self.detail, **self.extra}


def health_database() -> Check:
    """Whether the database answers a query."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return Check(False, f"database unreachable: {exc.__class__.__name__}")
    return Check(True, "ok")


def health_redis() -> Check:
    """Whether Redis (broker and cache) answers PING."""
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        return Check(False, f"redis unreachable: {exc.__class__.__name__}")
    finally:
        client.close()
    return Check(True, "ok")


def health_worker(*, now: datetime | None = None) -> Check:
    """Whether a Celery worker ran the heartbeat task recently enough."""
    now = now or timezone.now()
    try:
        last = WorkerHeartbeat.objects.order_by("-last_seen_at").first()
    except DatabaseError:
        return Check(False, "unknown: database unreachable")
    if last is None:
        return Check(False, "no heartbeat recorded yet", {"last_heartbeat": None})
    age = (now - last.last_seen_at).total_seconds()
    extra = {
        "last_heartbeat": last.last_seen_at.isoformat(),
        "age_seconds": round(age, 1),
        "hostname": last.hostname,
    }
    if age > settings.WORKER_HEARTBEAT_MAX_AGE:
        return Check(False, f"last heartbeat {age:.0f}s ago", extra)
    return Check(True, "ok", extra)


def health_report() -> dict[str, Check]:
    """All health checks by name, database first (the worker check reads the database)."""
    return {"database": health_database(), "redis": health_redis(), "worker": health_worker()}


def health_migrations() -> Check:
    """Whether every migration is applied (a deploy that forgot `migrate` is not ready)."""
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError:
        return Check(False, "unknown: database unreachable")
    if pending:
        names = [f"{m.app_label}.{m.name}" for m, _backwards in pending]
        return Check(False, f"{len(names)} migration(s) not applied", {"pending": names[:10]})
    return Check(True, "ok")


def health_beat(*, now: datetime | None = None) -> Check:
    """Whether Celery beat sent a scheduled task recently (its last run of any enabled task)."""
    now = now or timezone.now()
    try:
        last = (
            PeriodicTask.objects.filter(enabled=True, last_run_at__isnull=False)
            .order_by("-last_run_at")
            .values_list("last_run_at", flat=True)
            .first()
        )
    except DatabaseError:
        return Check(False, "unknown: database unreachable")
    if last is None:
        return Check(False, "beat has not run a task yet", {"last_run": None})
    age = (now - last).total_seconds()
    extra = {"last_run": last.isoformat(), "age_seconds": round(age, 1)}
    if age > settings.BEAT_MAX_AGE:
        return Check(False, f"last beat run {age:.0f}s ago", extra)
    return Check(True, "ok", extra)


def readiness_report() -> dict[str, Check]:
    """Everything a load balancer should know before sending traffic."""
    return {
        **health_report(),
        "migrations": health_migrations(),
        "beat": health_beat(),
    }


# -- partitions and maintenance --------------------------------------------------------------


def _months_after(month: datetime, count: int) -> datetime:
    index = month.year * 12 + month.month - 1 + count
    return month.replace(year=index // 12, month=index % 12 + 1)


def partition_coverage(*, now: datetime | None = None) -> dict[str, int]:
    """For each table of settings.MONTHLY_PARTITIONED_TABLES, how many consecutive months after
    the current one already have their partition (`<table>_pYYYYMM`, see core migration 0004).
    0 means rows of next month would land in the DEFAULT partition."""
    this_month = (
        (now or timezone.now())
        .astimezone(UTC)
        .replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    )
    coverage = {}
    with connection.cursor() as cursor:
        for table in settings.MONTHLY_PARTITIONED_TABLES:
            cursor.execute(
                "SELECT c.relname FROM pg_catalog.pg_inherits i "
                "JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = %s::regclass",
                [table],
            )
            names = {row[0] for row in cursor.fetchall()}
            base = table.rsplit(".", 1)[-1]
            ahead = 0
            while f"{base}_p{_months_after(this_month, ahead + 1):%Y%m}" in names:
                ahead += 1
            coverage[table] = ahead
    return coverage


def maintenance_last_runs() -> list[MaintenanceRun]:
    """The latest finished run of each maintenance task."""
    return list(
        MaintenanceRun.objects.exclude(outcome=MaintenanceRun.Outcome.RUNNING)
        .order_by("task", "-started_at", "-id")
        .distinct("task")
    )


def maintenance_last_details(*, task: str) -> dict:
    """The details of the last successful run of `task` ({} when there is none)."""
    run = (
        MaintenanceRun.objects.filter(task=task, outcome=MaintenanceRun.Outcome.OK)
        .order_by("-started_at", "-id")
        .first()
    )
    return run.details if run else {}


def table_change_counters(*, table: str) -> tuple[int, int]:
    """(rows inserted + updated + deleted since the statistics were reset, estimated rows) of
    a table and its partitions, from pg_stat_user_tables and pg_class."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT COALESCE(sum(s.n_tup_ins + s.n_tup_upd + s.n_tup_del), 0)::bigint,
                   COALESCE(sum(GREATEST(c.reltuples, 0)), 0)::bigint
            FROM pg_catalog.pg_class c
            LEFT JOIN pg_catalog.pg_stat_user_tables s ON s.relid = c.oid
            WHERE c.oid = %s::regclass
               OR c.oid IN (SELECT inhrelid FROM pg_catalog.pg_inherits
                            WHERE inhparent = %s::regclass)
            """,
            [table, table],
        )
        changes, rows = cursor.fetchone()
    return int(changes), int(rows)


# -- database health (admin) -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class StatementsReport:
    available: bool
    reason: str
    rows: list[dict]


def _dicts(cursor) -> list[dict]:
    names = [column.name for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def top_statements(*, limit: int = 25) -> StatementsReport:
    """The statements with the most total execution time, from pg_stat_statements, or why they
    cannot be shown (extension not on the server, not created, library not preloaded)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_catalog.pg_extension e "
            "JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'pg_stat_statements'"
        )
        row = cursor.fetchone()
        if row is None:
            cursor.execute(
                "SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'pg_stat_statements'"
            )
            if cursor.fetchone() is None:
                return StatementsReport(
                    False,
                    "The pg_stat_statements extension is not available on this server "
                    "(it ships with PostgreSQL's contrib package).",
                    [],
                )
            return StatementsReport(
                False,
                "The pg_stat_statements extension is available but not created in this "
                "database: creating it needs a superuser (the migration tried and skipped). "
                "Run CREATE EXTENSION pg_stat_statements as a superuser.",
                [],
            )
        schema = connection.ops.quote_name(row[0])
        try:
            with transaction.atomic():
                cursor.execute(
                    f"""
                    SELECT s.query, s.calls, s.total_exec_time, s.mean_exec_time, s.rows,
                           s.shared_blks_hit, s.shared_blks_read,
                           r.rolname AS role
                    FROM {schema}.pg_stat_statements s
                    LEFT JOIN pg_catalog.pg_roles r ON r.oid = s.userid
                    WHERE s.dbid = (SELECT oid FROM pg_catalog.pg_database
                                    WHERE datname = current_database())
                    ORDER BY s.total_exec_time DESC
                    LIMIT %s
                    """,  # noqa: S608 (the schema is quoted)
                    [limit],
                )
                rows = _dicts(cursor)
        except DatabaseError as exc:
            return StatementsReport(
                False,
                "pg_stat_statements is created but cannot be read: the library must be listed "
                "in shared_preload_libraries (postgresql.conf) and the server restarted. "
                f"The server said: {str(exc).strip()}",
                [],
            )
    return StatementsReport(True, "", rows)


TABLE_BLOAT = """
SELECT s.schemaname AS schema, s.relname AS table_name,
       s.n_live_tup AS live_rows, s.n_dead_tup AS dead_rows,
       round(100.0 * s.n_dead_tup / NULLIF(s.n_live_tup + s.n_dead_tup, 0), 1) AS dead_pct,
       pg_catalog.pg_table_size(s.relid) AS size_bytes,
       (pg_catalog.pg_table_size(s.relid)::numeric * s.n_dead_tup
            / NULLIF(s.n_live_tup + s.n_dead_tup, 0))::bigint AS dead_bytes,
       s.n_mod_since_analyze AS changed_since_analyze,
       GREATEST(s.last_vacuum, s.last_autovacuum) AS last_vacuum,
       GREATEST(s.last_analyze, s.last_autoanalyze) AS last_analyze
FROM pg_catalog.pg_stat_user_tables s
ORDER BY dead_bytes DESC NULLS LAST, s.n_dead_tup DESC
LIMIT %s
"""

# A B-tree holds, per entry, a 4-byte line pointer and an 8-byte tuple header plus the key
# columns (average widths from pg_stats, aligned to 8 bytes); pages keep 24 bytes of header and
# 16 of B-tree data and are filled to the index's fillfactor (90 by default). What the index
# uses beyond that estimate is bloat. Keys with no statistics (expressions, never analyzed)
# make the estimate unreliable; those rows say so.
INDEX_BLOAT = """
WITH idx AS (
    SELECT n.nspname AS schema, t.relname AS table_name, c.relname AS index_name,
           c.relpages, GREATEST(c.reltuples, 0) AS reltuples,
           current_setting('block_size')::int AS bs,
           COALESCE((SELECT substring(o FROM 'fillfactor=([0-9]+)')::int
                     FROM unnest(c.reloptions) o WHERE o LIKE 'fillfactor=%%'), 90) AS fillfactor,
           (SELECT COALESCE(sum(st.avg_width), 0) FROM pg_catalog.pg_attribute a
            JOIN pg_catalog.pg_stats st ON st.schemaname = n.nspname
                 AND st.tablename = t.relname AND st.attname = a.attname
            WHERE a.attrelid = t.oid AND a.attnum = ANY (ix.indkey::int2[])) AS key_width,
           (SELECT count(*) FROM unnest(ix.indkey::int2[]) k WHERE k = 0)
             + (SELECT count(*) FROM unnest(ix.indkey::int2[]) k
                JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum = k
                WHERE k > 0 AND NOT EXISTS (
                    SELECT 1 FROM pg_catalog.pg_stats st
                    WHERE st.schemaname = n.nspname AND st.tablename = t.relname
                      AND st.attname = a.attname)) AS keys_without_stats
    FROM pg_catalog.pg_index ix
    JOIN pg_catalog.pg_class c ON c.oid = ix.indexrelid
    JOIN pg_catalog.pg_class t ON t.oid = ix.indrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_am am ON am.oid = c.relam
    WHERE am.amname = 'btree' AND c.relpages > 0
      AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
), estimate AS (
    SELECT idx.*,
           1 + ceil(reltuples * (4 + 8 + ceil(key_width / 8.0) * 8)
                    / ((bs - 24 - 16) * fillfactor / 100.0)) AS expected_pages
    FROM idx
)
SELECT schema, table_name, index_name, relpages::bigint * bs AS size_bytes,
       GREATEST(relpages - expected_pages, 0)::bigint * bs AS bloat_bytes,
       round((100.0 * GREATEST(relpages - expected_pages, 0) / relpages)::numeric, 1) AS bloat_pct,
       keys_without_stats > 0 AS unreliable
FROM estimate
ORDER BY bloat_bytes DESC, size_bytes DESC
LIMIT %s
"""


def table_bloat(*, limit: int = 25) -> list[dict]:
    """Tables by the space their dead rows take (pg_stat_user_tables; no pgstattuple needed)."""
    with connection.cursor() as cursor:
        cursor.execute(TABLE_BLOAT, [limit])
        return _dicts(cursor)


def index_bloat(*, limit: int = 25) -> list[dict]:
    """B-tree indexes by estimated bloat (their size against what their rows need)."""
    with connection.cursor() as cursor:
        cursor.execute(INDEX_BLOAT, [limit])
        return _dicts(cursor)
