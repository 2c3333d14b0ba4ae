"""Read replica router against a real streaming standby (pg_basebackup -R), started locally.

A throwaway primary (a clone of this session's migrated test database, tests/pgcluster.py) and
a standby streaming from it; tests/ops/replica_driver.py runs the app's settings and router on
them in a subprocess: analytics reads on the standby (pg_is_in_recovery() on the connection
used), writes and the rest on the primary, read-your-writes within and across requests,
replay paused (lag) and standby stopped (fallback to the primary, no error).
"""

import json
import subprocess
import sys
import time

import pytest
from django.db import connection

from tests import pgcluster

# The marker makes pytest-django set up the test database this module copies.
pytestmark = pytest.mark.django_db

DRIVER = pgcluster.BASE_DIR / "tests" / "ops" / "replica_driver.py"


@pytest.fixture(scope="module")
def clusters(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        source = dict(connection.settings_dict)
    primary = pgcluster.migrated_cluster(source)
    standby = None
    try:
        standby = primary.standby()
        yield primary, standby
    finally:
        if standby is not None:
            standby.destroy()
        primary.destroy()


def run_driver(primary, standby, *scenarios: str) -> dict:
    env = pgcluster.django_env(
        primary,
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DJANGO_DEBUG="false",
        DJANGO_ALLOWED_HOSTS="testserver,localhost",
        DATABASE_REPLICA_URL=standby.url(),
        REPLICA_SUPERUSER_DSN=(
            f"host=127.0.0.1 port={standby.port} user=postgres dbname={pgcluster.DBNAME}"
        ),
        REPLICA_DATA_DIR=str(standby.data),
        REPLICA_MAX_LAG_SECONDS="1",
        REPLICA_PIN_SECONDS="30",
        REPLICA_CHECK_INTERVAL="0",
        REDIS_URL=_test_redis_url(),
    )
    result = subprocess.run(
        [sys.executable, str(DRIVER), *scenarios],
        cwd=pgcluster.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"{scenarios}:\n{result.stdout}\n{result.stderr[-6000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def _test_redis_url() -> str:
    from django.conf import settings

    return settings.REDIS_URL


def test_standby_streams_from_the_primary(clusters):
    primary, standby = clusters
    assert standby.query("SELECT pg_is_in_recovery()")[0][0] is True
    assert primary.query("SELECT count(*) FROM pg_stat_replication")[0][0] == 1


def test_router_against_a_real_standby(clusters):
    primary, standby = clusters
    started = time.monotonic()
    seen = run_driver(primary, standby, "healthy", "lag", "down")  # "down" stops the standby
    assert not standby.running()
    print(
        f"\nreplica drill ({time.monotonic() - started:.0f}s): analytics reads on the standby "
        f"({seen['dashboard_statements_on_standby']} statements for a dashboard); "
        f"writes pin to the primary; replay paused -> {seen['lag_verdict']}, new row served "
        f"from the primary; standby stopped -> {seen['down_verdict']}, "
        f"statuses {seen['statuses']} (no 500)"
    )
