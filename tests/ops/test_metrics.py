"""/metrics: who may read it, and that its series appear and move."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.analytics.models import VIEWS
from apps.analytics.services import view_refresh
from apps.analytics.tasks import refresh_view
from apps.core import metrics
from apps.core.partitions import partitions_ensure
from apps.core.selectors import partition_coverage
from apps.core.tasks import heartbeat
from tests.ops.metrics_helpers import scrape, value

pytestmark = pytest.mark.django_db


def test_metrics_are_refused_outside_the_allowed_networks(client):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 403
    assert b"lyceum" not in response.content


def test_a_bearer_token_opens_metrics_from_anywhere(client, settings):
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong", **outside).status_code == 403
    ok = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token", **outside)
    assert ok.status_code == 200
    assert ok["Content-Type"].startswith("text/plain")


def test_allowed_networks_are_configurable(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert client.get("/metrics", REMOTE_ADDR="10.20.30.40").status_code == 200
    assert client.get("/metrics").status_code == 403  # 127.0.0.1 is no longer listed


def test_series_appear_and_move(client, redis_client):
    view = next(iter(VIEWS))
    before = scrape(client)

    assert client.get("/healthz").status_code in (200, 503)
    heartbeat.apply()  # runs in this process, through Celery's signals
    assert refresh_view.apply(args=["no_such_view"]).state == "FAILURE"
    view_refresh(view=view)
    partitions_ensure()

    after = scrape(client)
    latency = "django_http_requests_latency_seconds_by_view_method_count"
    assert value(after, latency, view="core:healthz", method="GET") == (
        value(before, latency, view="core:healthz", method="GET") + 1
    )
    selects = ("lyceum_db_queries_total", {"alias": "default", "kind": "select"})
    assert value(after, selects[0], **selects[1]) > value(before, selects[0], **selects[1])
    tasks = "lyceum_celery_tasks_total"
    assert value(after, tasks, task="core.tasks.heartbeat", outcome="success") == 1
    assert value(after, tasks, task="analytics.tasks.refresh_view", outcome="failure") == 1
    runtime = "lyceum_celery_task_runtime_seconds_count"
    assert value(after, runtime, task="core.tasks.heartbeat") == 1
    refreshes = "lyceum_mv_refresh_duration_seconds_count"
    outcomes = {labels for (name, labels) in after if name == refreshes}
    assert len(outcomes) == 1 and ("view", view) in next(iter(outcomes))
    assert (
        value(
            after,
            "lyceum_mv_refresh_duration_seconds_bucket",
            view=view,
            outcome=dict(next(iter(outcomes)))["outcome"],
            le="+Inf",
        )
        == 1
    )
    for table in settings.MONTHLY_PARTITIONED_TABLES:
        assert value(after, "lyceum_partition_months_ahead", table=table) >= (
            settings.PARTITION_MONTHS_AHEAD
        )
    assert value(after, "lyceum_metrics_redis_up") == 1
    assert value(after, "lyceum_metrics_database_up") == 1


def test_partition_coverage_counts_consecutive_months_only(client):
    partitions_ensure(months_ahead=4)
    assert value(scrape(client), "lyceum_partition_months_ahead", table="audit.events") >= 4
    in_two_months = (timezone.now().replace(day=1) + timedelta(days=62)).replace(day=1)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE audit.events_p{in_two_months:%Y%m}")
    assert partition_coverage()["audit.events"] == 1
    assert value(scrape(client), "lyceum_partition_months_ahead", table="audit.events") == 1


def test_metrics_survive_redis_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    metrics.reset_redis_client()
    try:
        heartbeat.apply()  # recording the outcome fails quietly; the task still succeeds
        samples = scrape(client)
    finally:
        metrics.reset_redis_client()
    assert value(samples, "lyceum_metrics_redis_up") == 0
    assert value(samples, "lyceum_metrics_database_up") == 1
