"""Reads owned by core: the health of the parts Lyceum depends on."""

import dataclasses
from datetime import datetime

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from apps.core.models import WorkerHeartbeat


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
