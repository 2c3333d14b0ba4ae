"""Fault drill: a Celery worker killed (SIGKILL) mid-task. With acks_late the message stays
unacknowledged in Redis; after the visibility timeout a new worker gets it again, and the
idempotency key makes the change apply exactly once, whether the first worker died before its
transaction committed or after."""

import os
import signal
import subprocess
import time

import pytest
from django.conf import settings
from django.db import connection

from apps.core.models import IdempotencyKey
from tests.conftest import app_role_worker
from tests.faults.drill_tasks import EVENTS, HOLD, credit
from tests.ops.metrics_helpers import scrape, value

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

VISIBILITY_TIMEOUT = 5


def _worker(name: str, *, visibility_timeout: int) -> subprocess.Popen:
    return app_role_worker(
        name,
        concurrency=2,
        args=("-I", "tests.faults.drill_tasks", "--without-mingle", "--without-gossip"),
        CELERY_VISIBILITY_TIMEOUT=str(visibility_timeout),
        CELERY_UNACKED_RESTORE_INTERVAL="1",
        CELERY_UNACKED_RESTORE_THROTTLE="1",
    )


def _events(redis_client) -> list[str]:
    return [item.decode() for item in redis_client.lrange(EVENTS, 0, -1)]


def _wait_for(condition, worker: subprocess.Popen, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        if worker.poll() is not None:
            break
        time.sleep(0.3)
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGKILL)
    output = worker.communicate(timeout=10)[0]
    pytest.fail(f"timed out waiting for {what}; worker output:\n{output[-3000:]}")


@pytest.fixture
def drill_tables():
    app = connection.ops.quote_name(settings.DATABASE_APP_ROLE)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE public.drill_ledger (key text PRIMARY KEY, amount integer NOT NULL);"
            "CREATE TABLE public.drill_account (balance integer NOT NULL);"
            "INSERT INTO public.drill_account VALUES (0);"
            f"GRANT SELECT, INSERT, UPDATE ON public.drill_ledger, public.drill_account TO {app};"
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE public.drill_ledger, public.drill_account")


def test_a_killed_worker_s_tasks_run_again_and_apply_once(redis_client, drill_tables, client):
    redis_client.set(HOLD, "1")
    # The first worker keeps the production timeout (it must not take back its own running
    # tasks); the one that recovers them uses a short one, so the drill takes seconds, not 1 h.
    first = _worker("drill-first", visibility_timeout=3600)
    second = None
    try:
        credit.delay("payment-A", 30, "inside")  # killed before its transaction commits
        credit.delay("payment-B", 12, "after")  # killed after its commit, before the ack
        _wait_for(
            lambda: {"payment-A:inside", "payment-B:after"} <= set(_events(redis_client)),
            first,
            240,  # a worker starts in seconds, but CI machines can be busy
            "both tasks to reach their stop",
        )
        os.killpg(first.pid, signal.SIGKILL)
        first_log = first.communicate(timeout=10)[0]
        killed_at = time.monotonic()
        unacked = redis_client.hlen("unacked")
        redis_client.delete(HOLD)

        second = _worker("drill-second", visibility_timeout=VISIBILITY_TIMEOUT)
        _wait_for(
            lambda: {"payment-A:applied", "payment-B:skipped"} <= set(_events(redis_client)),
            second,
            240,
            "the new worker to run both tasks again",
        )
        redelivered_after = time.monotonic() - killed_at
        _wait_for(lambda: redis_client.hlen("unacked") == 0, second, 30, "the acks")
    finally:
        redis_client.delete(HOLD)
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                try:
                    worker.communicate(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(worker.pid, signal.SIGKILL)
                    worker.communicate()

    with connection.cursor() as cursor:
        cursor.execute("SELECT key, amount FROM public.drill_ledger ORDER BY key")
        ledger = cursor.fetchall()
        cursor.execute("SELECT balance FROM public.drill_account")
        balance = cursor.fetchone()[0]
    events = _events(redis_client)
    keys = sorted(IdempotencyKey.objects.filter(scope="drill.credit").values_list("key", flat=True))
    samples = scrape(client)
    successes = value(samples, "lyceum_celery_tasks_total", task="drill.credit", outcome="success")
    print(
        "\nworker killed mid-task: 2 tasks (A stopped inside its transaction, B after its commit),"
        f" {unacked} unacknowledged at the kill; a new worker ran them again "
        f"{redelivered_after:.1f}s later (visibility timeout {VISIBILITY_TIMEOUT}s). "
        f"Ledger {ledger}, balance {balance} (expected 42), idempotency keys {keys}; "
        f"events {events}; {successes:.0f} successful runs counted in /metrics. Nothing lost, "
        "nothing applied twice."
    )
    assert unacked == 2, first_log[-3000:]
    assert ledger == [("payment-A", 30), ("payment-B", 12)]
    assert balance == 42
    assert keys == ["payment-A", "payment-B"]
    # Each task was delivered twice. A's first run died uncommitted, its second applied; B's
    # first run committed and died before reporting, its second found the key: applied nothing.
    assert events.count("payment-A:inside") == 2 and events.count("payment-A:applied") == 1
    assert events.count("payment-B:after") == 2 and events.count("payment-B:skipped") == 1
    assert "payment-B:applied" not in events
    assert successes == 2  # the second worker's two runs (the killed ones never finished)
