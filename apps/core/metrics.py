"""Prometheus metrics (docs/operations.md, "Metrics").

Three kinds, because web and workers are separate processes, often on separate hosts:

- Per process, in prometheus_client's registry: HTTP requests and latency (django-prometheus
  middleware) and SQL statements (counted by the database backend,
  apps/core/db/instrumentation.py). With several web processes on one host, set
  PROMETHEUS_MULTIPROC_DIR (before start) and /metrics adds up the processes of that host.
- Shared, kept in Redis (`SharedCounter`, `SharedHistogram`): whatever process records them (a
  worker running a task, the web process refreshing a view from the admin), every web process
  exports the same cluster-wide totals. Celery task outcomes and runtimes, materialized-view
  refresh durations. Recording never fails the caller: with Redis down the sample is dropped.
- Computed at scrape from the database (`DatabaseCollector`): partition coverage ahead and the
  last maintenance runs.
"""

import hmac
import ipaddress
import json
import logging
import os
import time
from collections.abc import Iterable, Sequence

import prometheus_client
import redis
from django.conf import settings
from django.db import DatabaseError
from prometheus_client import multiprocess
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.registry import Collector, CollectorRegistry

from apps.core import selectors

logger = logging.getLogger(__name__)

# -- shared: kept in Redis ----------------------------------------------------------------

_client: redis.Redis | None = None
_KEY_PREFIX = "lyceum:metrics:"
DEFAULT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900)


def _redis() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
        )
    return _client


def reset_redis_client() -> None:
    """Forget the Redis client (settings.REDIS_URL changed, e.g. in a test)."""
    global _client
    if _client is not None:
        _client.close()
    _client = None


class _Shared:
    kind = ""

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str]):
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        self.key = _KEY_PREFIX + name
        _SHARED.append(self)

    def _labels(self, labels: dict) -> str:
        if set(labels) != set(self.labelnames):
            raise ValueError(f"{self.name} takes the labels {self.labelnames}, got {set(labels)}")
        return json.dumps([str(labels[name]) for name in self.labelnames])

    def _record(self, commands) -> None:
        try:
            pipe = _redis().pipeline(transaction=False)
            commands(pipe)
            pipe.execute()
        except redis.RedisError as exc:
            logger.warning("metric %s not recorded: %s", self.name, exc)

    def _read(self) -> dict[str, float]:
        raw = _redis().hgetall(self.key)
        return {field.decode(): float(value) for field, value in raw.items()}


class SharedCounter(_Shared):
    """A counter whose value lives in Redis, incremented from any process."""

    def inc(self, amount: float = 1, **labels) -> None:
        field = self._labels(labels)
        self._record(lambda pipe: pipe.hincrbyfloat(self.key, field, amount))

    def collect(self) -> CounterMetricFamily:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for field, value in sorted(self._read().items()):
            family.add_metric(json.loads(field), value)
        return family


class SharedHistogram(_Shared):
    """A histogram whose buckets, sum and count live in Redis, observed from any process."""

    def __init__(self, name, documentation, labelnames, buckets: Sequence[float] = DEFAULT_BUCKETS):
        super().__init__(name, documentation, labelnames)
        self.buckets = tuple(sorted(buckets))

    def observe(self, value: float, **labels) -> None:
        field = self._labels(labels)
        index = next((i for i, b in enumerate(self.buckets) if value <= b), len(self.buckets))

        def commands(pipe):
            pipe.hincrbyfloat(self.key, f"sum|{field}", value)
            pipe.hincrby(self.key, f"count|{field}", 1)
            pipe.hincrby(self.key, f"b{index}|{field}", 1)

        self._record(commands)

    def collect(self) -> HistogramMetricFamily:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
        series: dict[str, dict[str, float]] = {}
        for name, value in self._read().items():
            part, field = name.split("|", 1)
            series.setdefault(field, {})[part] = value
        for field, parts in sorted(series.items()):
            cumulative, buckets = 0.0, []
            for index, bound in enumerate((*self.buckets, float("inf"))):
                cumulative += parts.get(f"b{index}", 0.0)
                le = (
                    "+Inf"
                    if bound == float("inf")
                    else prometheus_client.utils.floatToGoString(bound)
                )
                buckets.append((le, cumulative))
            family.add_metric(json.loads(field), buckets, parts.get("sum", 0.0))
        return family


_SHARED: list[_Shared] = []

CELERY_TASKS = SharedCounter(
    "lyceum_celery_tasks",
    "Celery task runs by task name and outcome (success, failure, retry, ignored, revoked).",
    ["task", "outcome"],
)
CELERY_TASK_RUNTIME = SharedHistogram(
    "lyceum_celery_task_runtime_seconds",
    "Run time of Celery tasks in a worker, by task name.",
    ["task"],
)
MV_REFRESH_SECONDS = SharedHistogram(
    "lyceum_mv_refresh_duration_seconds",
    "Duration of materialized-view refreshes, by view and outcome (refreshed, skipped, failed).",
    ["view", "outcome"],
)

_task_started: dict[str, float] = {}


def task_started(*, task_id: str) -> None:
    _task_started[task_id] = time.perf_counter()


def task_finished(*, task_id: str, task_name: str, state: str | None) -> None:
    """Count one task run and its run time (called from Celery's task_postrun)."""
    started = _task_started.pop(task_id, None)
    CELERY_TASKS.inc(task=task_name, outcome=(state or "unknown").lower())
    if started is not None:
        CELERY_TASK_RUNTIME.observe(time.perf_counter() - started, task=task_name)


class SharedCollector(Collector):
    """Exports the Redis-kept metrics; `lyceum_metrics_redis_up` says whether they could be read."""

    def collect(self) -> Iterable:
        families = []
        try:
            families = [metric.collect() for metric in _SHARED]
            up = 1
        except redis.RedisError as exc:
            logger.warning("shared metrics unavailable: %s", exc)
            up = 0
        yield GaugeMetricFamily(
            "lyceum_metrics_redis_up", "Whether the shared (Redis) metrics could be read.", up
        )
        yield from families


# -- computed at scrape from the database ------------------------------------------------


class DatabaseCollector(Collector):
    """Partition coverage ahead and the last maintenance runs, read at each scrape."""

    def collect(self) -> Iterable:
        try:
            coverage = selectors.partition_coverage()
            runs = selectors.maintenance_last_runs()
            up = 1
        except DatabaseError as exc:
            logger.warning("database metrics unavailable: %s", exc)
            coverage, runs, up = {}, [], 0
        yield GaugeMetricFamily(
            "lyceum_metrics_database_up", "Whether the database metrics could be read.", up
        )
        months = GaugeMetricFamily(
            "lyceum_partition_months_ahead",
            "Consecutive future months (after the current one) that have a partition, by table.",
            labels=["table"],
        )
        for table, ahead in coverage.items():
            months.add_metric([table], ahead)
        yield months
        finished = GaugeMetricFamily(
            "lyceum_maintenance_last_finished_timestamp_seconds",
            "When each maintenance task last finished, by task and outcome.",
            labels=["task", "outcome"],
        )
        for run in runs:
            finished.add_metric([run.task, run.outcome], run.finished_at.timestamp())
        yield finished


SCRAPE_REGISTRY = CollectorRegistry(auto_describe=False)
SCRAPE_REGISTRY.register(SharedCollector())
SCRAPE_REGISTRY.register(DatabaseCollector())


def exposition() -> bytes:
    """The text the /metrics endpoint serves: this process (or host), then shared and DB data."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = prometheus_client.REGISTRY
    return prometheus_client.generate_latest(registry) + prometheus_client.generate_latest(
        SCRAPE_REGISTRY
    )


def scrape_allowed(*, remote_addr: str, authorization: str) -> bool:
    """Whether a caller may read /metrics: it sends `Authorization: Bearer <METRICS_TOKEN>`
    (when a token is configured), or it connects from one of METRICS_ALLOWED_NETWORKS."""
    token = settings.METRICS_TOKEN
    if token and hmac.compare_digest(authorization.encode(), f"Bearer {token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(network, strict=False)
        for network in settings.METRICS_ALLOWED_NETWORKS
    )
