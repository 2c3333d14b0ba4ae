"""Drill: PostgreSQL stopped and started again under load.

The app runs in gunicorn (config.wsgi, two workers with threads) as the app role against a
throwaway cluster (tests/pgcluster.py; never the shared server). Four client threads keep
requesting a page, an API endpoint, /healthz and /readyz while the server is stopped and
started. Checked: during the outage every answer is a fast 503 (the API's error body, the
friendly page, /readyz red), no other 5xx, no request hangs; after the restart the same
gunicorn processes answer 200 again (CONN_HEALTH_CHECKS drops the dead connections) and
/readyz is green.
"""

import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests import pgcluster

pytestmark = pytest.mark.django_db  # pytest-django sets up the database the cluster copies

PATHS = ("/api/v1/content/courses/", "/courses/", "/readyz", "/healthz")
CLIENT_TIMEOUT = 10.0  # a request taking this long counts as a hang
OUTAGE_SECONDS = 4.0
SEED = """
import django; django.setup()
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from apps.core.models import WorkerHeartbeat
now = timezone.now()
WorkerHeartbeat.objects.update_or_create(hostname="drill", defaults={"last_seen_at": now})
every, _ = IntervalSchedule.objects.get_or_create(every=30, period="seconds")
PeriodicTask.objects.update_or_create(
    name="drill heartbeat",
    defaults={"task": "drill", "interval": every, "enabled": True, "last_run_at": now},
)
"""


@dataclass
class Result:
    path: str
    started: float
    elapsed: float
    status: int  # 0: no HTTP answer (connection error), -1: client timeout (a hang)
    body: str


@pytest.fixture
def cluster(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        source = dict(connection.settings_dict)
    cluster = pgcluster.migrated_cluster(source)
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def app(cluster, tmp_path):
    env = pgcluster.django_env(
        cluster, DATABASE_CONNECT_TIMEOUT="3", TEST_REDIS_URL=settings.REDIS_URL
    )
    seed = subprocess.run(
        [sys.executable, "-c", SEED],
        cwd=pgcluster.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert seed.returncode == 0, seed.stderr
    port = pgcluster.free_port()
    log = (tmp_path / "gunicorn.log").open("w")
    gunicorn = Path(sys.executable).parent / "gunicorn"
    argv = [str(gunicorn), "config.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    argv += ["--workers", "2", "--threads", "4", "--timeout", "60", "--graceful-timeout", "5"]
    argv += ["--chdir", str(pgcluster.BASE_DIR)]
    process = subprocess.Popen(
        argv, cwd=pgcluster.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert pgcluster.wait_for(lambda: request(base, "/healthz").status > 0, timeout=90), (
            tmp_path / "gunicorn.log"
        ).read_text()
        yield base, process, tmp_path / "gunicorn.log"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def request(base: str, path: str) -> Result:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(base + path, timeout=CLIENT_TIMEOUT) as response:  # noqa: S310
            status, body = response.status, response.read(20000).decode(errors="replace")
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read(20000).decode(errors="replace")
    except TimeoutError:
        status, body = -1, "client timeout"
    except (urllib.error.URLError, ConnectionError, OSError) as error:
        reason = getattr(error, "reason", error)
        status = -1 if isinstance(reason, TimeoutError) else 0
        body = repr(reason)
    return Result(path, started, time.monotonic() - started, status, body)


def children(pid: int) -> set[int]:
    try:
        return set(map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split()))
    except OSError:
        return set()


def test_postgres_restart_under_load(cluster, app):
    base, gunicorn, log = app
    workers_before = children(gunicorn.pid)
    results: list[Result] = []
    stop = threading.Event()

    def client(offset: int) -> None:
        i = offset
        while not stop.is_set():
            results.append(request(base, PATHS[i % len(PATHS)]))
            i += 1
            time.sleep(0.05)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    try:
        # Warm: every path answered 200 at least once (a busy machine may need a while).
        pgcluster.wait_for(
            lambda: {r.path for r in list(results) if r.status == 200} == set(PATHS), timeout=60
        )
        not_ready = {
            r.path: (r.status, r.body[:600])
            for r in list(results)
            if r.path not in {q.path for q in list(results) if q.status == 200}
        }
        # e.g. /readyz listing a migration written after this session migrated its database
        assert not not_ready, f"not answering 200 before the outage: {not_ready}"
        time.sleep(1)
        t_stop = time.monotonic()
        cluster.stop(mode="fast")
        t_stopped = time.monotonic()
        time.sleep(OUTAGE_SECONDS)
        t_start = time.monotonic()
        cluster.start()
        t_started = time.monotonic()
        recovered_at = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and recovered_at is None:
            recent = [r for r in list(results) if r.started > t_started and r.status == 200]
            if recent:
                recovered_at = min(r.started + r.elapsed for r in recent)
            time.sleep(0.2)
        time.sleep(3)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=CLIENT_TIMEOUT + 5)

    before = [r for r in results if r.started + r.elapsed < t_stop]
    outage = [r for r in results if r.started > t_stopped and r.started + r.elapsed < t_start]
    after = [r for r in results if recovered_at is not None and r.started > recovered_at + 1]
    hangs = [r for r in results if r.status == -1]
    no_answer = [r for r in results if r.status == 0]
    other_5xx = [r for r in results if r.status >= 500 and r.status != 503]
    unavailable = [r for r in results if r.status == 503]
    slowest_outage = max((r.elapsed for r in outage), default=0.0)

    print(
        f"\npostgres restart drill: {len(results)} requests from 4 threads; server down "
        f"{t_start - t_stop:.1f}s; before: {_count(before)}; outage: {_count(outage)} "
        f"(slowest {slowest_outage:.2f}s); after: {_count(after)}; 503s {len(unavailable)}, "
        f"other 5xx {len(other_5xx)}, hangs {len(hangs)}, no answer {len(no_answer)}; "
        f"recovered {recovered_at - t_started:.1f}s after the server was up, "
        f"same gunicorn workers: {children(gunicorn.pid) == workers_before}"
        if recovered_at is not None
        else "\npostgres restart drill: NOT recovered"
    )
    detail = log.read_text()[-4000:]
    assert other_5xx == [], (other_5xx[:3], detail)
    assert hangs == [] and no_answer == [], (hangs[:3], no_answer[:3])
    assert before and all(r.status == 200 for r in before), _count(before)
    # /healthz is liveness: it may stay green (the process is fine) or report the database.
    assert outage and all(
        r.status == 503 or (r.path == "/healthz" and r.status == 200) for r in outage
    ), (_count(outage), detail)
    assert slowest_outage < 5.0
    for r in outage:
        if r.path.startswith("/api/"):
            assert _json(r)["error"]["code"] == "service_unavailable", r
        elif r.path == "/readyz":
            assert _json(r)["checks"]["database"]["ok"] is False, r
        elif r.path == "/courses/":
            assert "Back in a moment" in r.body, r
    assert recovered_at is not None, "no request succeeded after PostgreSQL came back"
    assert after and all(r.status == 200 for r in after), _count(after)
    assert {r.path for r in after} == set(PATHS)  # /readyz green again
    assert gunicorn.poll() is None and children(gunicorn.pid) == workers_before  # no restart
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


def _json(result: Result) -> dict:
    try:
        return json.loads(result.body)
    except ValueError:
        raise AssertionError(f"not JSON: {result}") from None


def _count(results: list[Result]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    return dict(sorted(counts.items()))
