"""Runs the replica router against a real primary and standby (started by test_replica.py).

A separate process because the settings must be built from DATABASE_URL and
DATABASE_REPLICA_URL (the `replica` alias) exactly as a deployment builds them, while the
pytest process is configured for its own test database. Usage (environment from the test):

    python tests/ops/replica_driver.py healthy lag down    (any of them, in that order)

Prints one JSON line of what it saw; any failed check raises (non-zero exit).
"""

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

import django

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connections  # noqa: E402
from django.test import Client, RequestFactory, override_settings  # noqa: E402

from apps.accounts.models import User  # noqa: E402
from apps.analytics.models import VIEWS, ExportJob, RefreshRun  # noqa: E402
from apps.core.db import router  # noqa: E402
from tests import pgcluster  # noqa: E402
from tests.accounts.factories import UserFactory  # noqa: E402

STANDBY_SUPERUSER = os.environ["REPLICA_SUPERUSER_DSN"]  # to pause and resume replay
seen: dict = {}


class Counter:
    """Counts the statements an alias runs for the app (the test client runs in this thread);
    the router's own lag query is not a read of the app's data."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        if sql != router.LAG_SQL:
            self.count += 1
        return execute(sql, params, many, context)


def in_recovery(alias: str) -> bool:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        return cursor.fetchone()[0]


def standby(sql: str):
    with psycopg.connect(STANDBY_SUPERUSER, autocommit=True, connect_timeout=3) as conn:
        return conn.execute(sql).fetchone()


def get(client: Client, path: str) -> tuple[int, int, int]:
    """(status, statements on the replica, statements on the primary) of one GET."""
    on_replica, on_primary = Counter(), Counter()
    with (
        connections["replica"].execute_wrapper(on_replica),
        connections["default"].execute_wrapper(on_primary),
    ):
        response = client.get(path)
    return response.status_code, on_replica.count, on_primary.count


def forget_pin(client: Client, user) -> None:
    client.cookies.pop(router.PIN_COOKIE, None)
    cache.delete(router._PIN_CACHE_KEY.format(user.pk))


def staff_client() -> tuple[Client, User]:
    tag = uuid.uuid4().hex[:10]
    user = UserFactory(email=f"replica-{tag}@example.org", username=f"replica-{tag}")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    wait_caught_up()  # the standby knows the user before anything is read from it
    return client, user


def wait_caught_up(timeout: float = 15.0) -> None:
    """Until the standby has replayed everything the primary has written so far."""
    with connections["default"].cursor() as cursor:
        # insert, not write, position: the clusters run with synchronous_commit = off, so a
        # commit record may still sit in WAL buffers (the WAL writer sends it within 200 ms).
        cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
        (target,) = cursor.fetchone()

    def replayed() -> bool:
        with connections["replica"].cursor() as cursor:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
            return cursor.fetchone()[0]

    assert wait_replayed(replayed, timeout), f"standby did not replay up to {target}"


def wait_replayed(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def healthy() -> None:
    assert router.replica_alias() == "replica", settings.DATABASES.keys()
    factory = RequestFactory()

    # Outside a request and outside use_replica(): everything on the primary.
    assert RefreshRun.objects.all().db == "default"

    # In a request: analytics reads go to the standby, other reads and writes to the primary.
    with router.request_scope(factory.get("/analytics/")) as scope:
        alias = RefreshRun.objects.all().db
        assert alias == "replica", alias
        assert in_recovery(alias) is True, "analytics read not served by the standby"
        assert User.objects.all().db == "default"
        assert in_recovery("default") is False
        run = RefreshRun.objects.create(
            view=next(iter(VIEWS)), outcome="refreshed", duration_ms=1, rows=0
        )
        assert run._state.db == "default" and scope.wrote
        # Read-your-writes: the rest of the request reads the primary, which has the row.
        assert RefreshRun.objects.all().db == "default"
        assert RefreshRun.objects.filter(pk=run.pk).exists()
    seen["request_routing"] = "analytics reads on standby until the first write"

    # A write the ORM router never sees (raw SQL) also keeps the request on the primary.
    wait_caught_up()
    with router.request_scope(factory.get("/analytics/")) as scope:
        assert RefreshRun.objects.all().db == "replica"
        with connections["default"].cursor() as cursor:
            cursor.execute('UPDATE "analytics"."refresh_run" SET rows = rows WHERE false')
        assert scope.wrote and RefreshRun.objects.all().db == "default"

    # use_replica(): every read inside, any model, outside a request too.
    with router.use_replica():
        assert User.objects.all().db == "replica"
    assert User.objects.all().db == "default"

    # Through the whole stack: a dashboard served from the standby, no pin for a read.
    client, user = staff_client()
    status, on_replica, _ = get(client, "/analytics/me/")
    assert status == 200 and on_replica > 0, (status, on_replica)
    seen["dashboard_statements_on_standby"] = on_replica

    # A write pins the client: the next request (within REPLICA_PIN_SECONDS) reads the primary.
    response = client.post("/analytics/exports/", {"kind": "course_performance"})
    assert response.status_code == 302, response.status_code
    assert router.PIN_COOKIE in response.cookies
    status, on_replica, _ = get(client, response["Location"])
    assert status == 200 and on_replica == 0, (status, on_replica)
    forget_pin(client, user)
    job_id = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    wait_caught_up()
    assert ExportJob.objects.using("replica").filter(pk=job_id).exists()
    status, on_replica, _ = get(client, response["Location"])
    assert status == 200 and on_replica > 0, (status, on_replica)
    seen["pin"] = "a writing client reads the primary, then the standby once the pin expires"


def lag() -> None:
    """Replay paused on the standby: a write is not there, the router notices the lag."""
    client, user = staff_client()
    standby("SELECT pg_wal_replay_pause()")
    try:
        response = client.post("/analytics/exports/", {"kind": "course_performance"})
        assert response.status_code == 302
        job_url = response["Location"]
        job_id = job_url.rstrip("/").rsplit("/", 1)[-1]
        # Pinned: the new job page works although the standby has not got the row.
        status, on_replica, _ = get(client, job_url)
        assert status == 200 and on_replica == 0, (status, on_replica)
        assert not ExportJob.objects.using("replica").filter(pk=job_id).exists()
        seen["stale_standby_misses_new_row"] = True
        # Unpinned, the lag is over the limit: reads fall back to the primary (no 404).
        forget_pin(client, user)
        time.sleep(settings.REPLICA_MAX_LAG_SECONDS + 0.5)
        status, on_replica, _ = get(client, job_url)
        assert status == 200 and on_replica == 0, (status, on_replica)
        verdict = router.replica_status()
        assert verdict is not None and not verdict.usable and "lagging" in verdict.reason
        seen["lag_verdict"] = verdict.reason
    finally:
        standby("SELECT pg_wal_replay_resume()")
    # Caught up again: the standby serves the page.
    wait_caught_up()
    assert ExportJob.objects.using("replica").filter(pk=job_id).exists()
    status, on_replica, _ = get(client, job_url)
    assert status == 200 and on_replica > 0, (status, on_replica)
    assert router.replica_status().usable
    seen["after_resume"] = "standby in use again"


def stop_standby() -> None:
    """pg_ctl stop on the standby's data directory (as the `postgres` OS user when root)."""
    argv = [str(pgcluster.bin_dir() / "pg_ctl"), "-D", os.environ["REPLICA_DATA_DIR"]]
    subprocess.run(pgcluster._as_postgres([*argv, "-m", "fast", "-w", "stop"]), check=True, cwd="/")


def down() -> None:
    """Standby stopped while the app holds a connection to it and a fresh "usable" verdict:
    reads fall back to the primary at once, no error page."""
    client, _user = staff_client()
    with override_settings(REPLICA_CHECK_INTERVAL=60):
        status, on_replica, _ = get(client, "/analytics/me/")
        assert status == 200 and on_replica > 0, (status, on_replica)
        stop_standby()
        statuses = []
        for path in ("/analytics/me/", "/analytics/exports/", "/analytics/me/"):
            status, on_replica, on_primary = get(client, path)
            statuses.append(status)
            assert status == 200 and on_replica == 0 and on_primary > 0, (path, status)
    verdict = router.replica_status()
    assert verdict is not None and not verdict.usable and "unreachable" in verdict.reason
    with router.request_scope(RequestFactory().get("/")):
        assert RefreshRun.objects.all().db == "default"
        RefreshRun.objects.exists()  # no exception
    seen["statuses"] = statuses
    seen["down_verdict"] = verdict.reason


if __name__ == "__main__":
    # One process for the scenarios, in order (a Django start-up is seconds on a busy machine).
    for scenario in sys.argv[1:]:
        {"healthy": healthy, "lag": lag, "down": down}[scenario]()
    print(json.dumps({"scenarios": sys.argv[1:], **seen}))
