"""The benchmark runner (docs/adr/0020-benchmark-harness.md, docs/performance.md).

    make bench                      # SCALE=0.01 by default: a few minutes
    make bench SCALE=0.1
    make bench ARGS=--full          # full scale (generating it takes long the first time)
    .venv/bin/python bench/run.py --scale 0.01 --duration 10 --only outline,heartbeat

1. Makes sure the benchmark database exists (lyceum_bench for the full scale,
   lyceum_bench_<scale> otherwise), is migrated (owner role) and holds the generated data
   (`manage.py generate_scale`, restartable: only the missing stages run).
2. Starts gunicorn (config.settings.bench, connected as the app role) with a fixed number of
   sync workers on loopback, and a Python asyncio + httpx load generator with a fixed number of
   concurrent clients: warm-up, then a timed measurement per scenario.
3. For each scenario, in the same run, two references (three for the heartbeat):
   - framework ceiling: the bare view (/bench/bare/: the full middleware stack, no query)
     returning the scenario's median response size, under the same load;
   - framework ceiling for the same SQL (the scenarios in BARE_SQL): the bare SQL view
     (/bench/bare-sql/?scenario=...: the full middleware stack, then the statements of one of
     the scenario's requests captured in-process, on a raw cursor in one transaction, then the
     scenario's median response size), under the same load;
   - database ceiling: the exact SQL statements one request of the scenario ran (captured
     in-process), replayed with psycopg by the same number of concurrent connections, each
     request's statements in one transaction, no Django.
4. Writes bench/results/scale-<scale>.json and .md (machine, commit, load average).
"""

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PY = sys.executable
WORKERS = 4  # gunicorn sync workers: 2 per core on this 2-core machine
CONCURRENCY = 4  # concurrent clients of the load generator (one request in flight each)
CSRF = "benchmarkcsrfsecret0123456789abc"  # 32 characters: a valid unmasked CSRF secret
BARE_SQL = ("heartbeat",)  # scenarios measured against the bare SQL view too
BARE_SQL_SAMPLES = 20  # captured requests the bare SQL view chooses from (as the load varies)
SEARCH_WORDS = ["algebra", "chemistry", "history", "python", "music", "geometry", "poetry"]
RECALL_QUERIES = ["fractions homework", "exam revision", "prefers videos", "evenings", "chess"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def db_urls(name: str) -> tuple[str, str]:
    owner = os.environ.get(
        "BENCH_OWNER_URL", "postgres://lyceum_owner:lyceum_owner@127.0.0.1:5432/postgres"
    )
    app = os.environ.get("BENCH_APP_URL", "postgres://lyceum_app:lyceum_app@127.0.0.1:5432/x")

    def with_db(url: str) -> str:
        parts = urllib.parse.urlsplit(url)
        return urllib.parse.urlunsplit(parts._replace(path="/" + name))

    return with_db(owner), with_db(app)


def manage(*args: str, url: str, settings: str = "config.settings.local") -> None:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": settings}
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)


def prepare_database(name: str, scale: float, *, migrate: bool = True) -> tuple[str, str, dict]:
    import psycopg

    owner, app = db_urls(name)
    admin = db_urls("postgres")[0]
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            print(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')
    if migrate:
        print("migrating (owner role)")
        manage("migrate", "--no-input", "-v", "0", url=owner)
    print(f"generating data at scale {scale} (resumes; no-op when complete)")
    started = time.perf_counter()
    manage("generate_scale", "--scale", str(scale), url=owner)
    with psycopg.connect(owner) as conn:
        stages = {
            stage: {"rows": rows, "seconds": round(seconds, 1), "info": info}
            for stage, rows, seconds, info in conn.execute(
                "SELECT stage, rows, seconds, info FROM public.bench_generate_stage"
            )
        }
    stages["_checked_seconds"] = round(time.perf_counter() - started, 1)
    return owner, app, stages


def cpu_calibration() -> float:
    """Seconds one fixed pure-Python loop takes (median of 3): a rough reading of this shared
    machine's single-core speed at the time of a run (seen within an hour: 0.2 to 0.5 s). It
    does not catch every slowdown: at the same 0.2 s, the bare view's throughput in two runs
    differed 2x. The bare view measured next to each scenario remains the reference."""
    times = []
    for _ in range(3):
        started, total = time.perf_counter(), 0
        for i in range(5_000_000):
            total += i
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 3)


def machine() -> dict:
    def run(*cmd):
        try:
            return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True).stdout.strip()
        except OSError:
            return ""

    cpu = ""
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "postgres": run("psql", "--version"),
        "commit": run("git", "rev-parse", "--short", "HEAD"),
        "dirty": bool(run("git", "status", "--porcelain", "--untracked-files=no")),
        "loadavg_start": os.getloadavg(),
        "cpu_loop_s_start": cpu_calibration(),
    }


# -- in-process part: sessions, ids, captured SQL -------------------------------------------


def django_setup(app_url: str, redis_url: str) -> None:
    os.environ["DATABASE_URL"] = app_url
    os.environ["REDIS_URL"] = redis_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.bench"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def session_cookie(user) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[1]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return store.session_key


def system_context():
    """Row-level security's system context (apps/core/rls.py), where it exists: the runner's
    own look-ups and the bulk job (a worker's work) are not a user's request."""
    try:
        from apps.core.rls import system_context as context
    except ImportError:
        return contextlib.nullcontext()
    return context()


def fixtures(stages: dict) -> dict:
    """Ids, cookies and request lists for every scenario (from the generated data)."""
    from apps.accounts.models import User
    from apps.content.models import Course, Lesson
    from apps.progress.models import Enrollment

    info = {
        k: v
        for stage in stages.values()
        if isinstance(stage, dict)
        for k, v in stage["info"].items()
    }
    with system_context():
        outline = Course.objects.get(slug=info["outline_course"])
        gradebook = Course.objects.get(slug=info["gradebook_course"])
        # Heartbeats come from many learners of the 1,000-lesson course (one enrollment each).
        enrollments = list(
            Enrollment.objects.filter(course=outline).select_related("user").order_by("id")[:40]
        )
        learner = User.objects.get(pk=info["learner"])
        teacher = User.objects.get(pk=gradebook.instructor_id)
        lessons = list(Lesson.objects.filter(module__course=outline).values_list("id", flat=True))
        return {
            "info": info,
            "learner_cookie": session_cookie(learner),
            "teacher_cookie": session_cookie(teacher),
            "heartbeat": [(session_cookie(e.user), str(e.pk)) for e in enrollments],
            "lessons": [str(x) for x in lessons],
            "profile": info["profile"],
            "outline_slug": info["outline_course"],
            "gradebook_slug": info["gradebook_course"],
        }


def scenarios(fx: dict) -> dict:
    """name -> function(rng) returning (method, path, json body or None, session cookie)."""
    outline = f"/learn/{fx['outline_slug']}/"
    gradebook = f"/teach/{fx['gradebook_slug']}/gradebook/"
    lessons = fx["lessons"]

    def heartbeat(rng):
        cookie, enrollment = fx["heartbeat"][rng.randrange(len(fx["heartbeat"]))]
        body = {
            "lesson": lessons[rng.randrange(len(lessons))],
            "percent": rng.randrange(10, 90),  # never 100: the learners stay mid-course
            "time_delta_seconds": 15,
        }
        return "POST", f"/api/v1/progress/enrollments/{enrollment}/progress/", body, cookie

    return {
        "outline": lambda rng: ("GET", outline, None, fx["learner_cookie"]),
        "heartbeat": heartbeat,
        "gradebook_page": lambda rng: ("GET", gradebook, None, fx["teacher_cookie"]),
        "catalog_search": lambda rng: (
            "GET",
            f"/courses/?q={rng.choice(SEARCH_WORDS)}",
            None,
            fx["learner_cookie"],
        ),
        "teacher_dashboard": lambda rng: (
            "GET",
            f"/analytics/teach/{fx['gradebook_slug']}/",
            None,
            fx["teacher_cookie"],
        ),
        "memory_recall": lambda rng: (
            "POST",
            f"/api/v1/assistants/{fx['profile']}/recall/",
            {"query": rng.choice(RECALL_QUERIES), "limit": 5},
            fx["learner_cookie"],
        ),
    }


def capture_sql(request, *, as_sent: bool = False) -> tuple[list, int, int]:
    """Run one request in-process; return its (sql, params) list, status and size.

    as_sent: the statements as the driver receives them, after every execute wrapper (the
    audit context pghistory prepends to writes included), not as the application issued them."""
    from django.db import connection
    from django.db.backends.utils import CursorWrapper
    from django.test import Client

    method, path, body, cookie = request
    client = Client(HTTP_HOST="localhost", enforce_csrf_checks=True)
    client.cookies["sessionid"] = cookie
    client.cookies["csrftoken"] = CSRF
    statements = []

    def capture(execute, sql, params, many, context):
        statements.append((sql, params, many))
        return execute(sql, params, many, context)

    # Row-level security's session settings go straight to the driver (apps/core/rls.py: not
    # counted as queries); the replay needs them too, so they are captured here as well.
    try:
        from apps.core import rls
    except ImportError:
        rls = None
    if rls is not None:
        original_send = rls._send

        def send(conn, context):
            statements.append((rls._SET_SQL, [context.context, context.user_id], False))
            return original_send(conn, context)

        rls._send = send
    original = CursorWrapper._execute, CursorWrapper._executemany
    if as_sent:

        def execute(self, sql, params, *rest):
            statements.append((sql, params, False))
            return original[0](self, sql, params, *rest)

        def executemany(self, sql, param_list, *rest):
            param_list = list(param_list)
            statements.append((sql, param_list, True))
            return original[1](self, sql, param_list, *rest)

        CursorWrapper._execute, CursorWrapper._executemany = execute, executemany
    try:
        with connection.execute_wrapper(capture) if not as_sent else contextlib.nullcontext():
            response, content = _request(client, method, path, body)
    finally:
        CursorWrapper._execute, CursorWrapper._executemany = original
        if rls is not None:
            rls._send = original_send
    return statements, response.status_code, len(content)


def write_capture(folder: Path, scenario: str, make_request, size: int) -> int:
    """Capture BARE_SQL_SAMPLES requests of the scenario in-process (as the load generator
    makes them) into <folder>/<scenario>.json for the bare SQL view: each request's statements
    as the driver received them (audit context included) with their parameters bound as the
    driver binds them (Django's psycopg cursors bind on the client side). Returns the number of
    statements of the first."""
    from django.db import connection

    requests = []
    for n in range(BARE_SQL_SAMPLES):
        statements, _status, _size = capture_sql(
            make_request(random.Random(1000 + n)), as_sent=True
        )
        requests.append(
            [
                connection.ops.compose_sql(sql, one)
                for sql, params, many in statements
                for one in (params if many else [params])
            ]
        )
    path = folder / f"{scenario}.json"
    path.write_text(json.dumps({"bytes": size, "requests": requests}))
    return len(requests[0])


def _request(client, method, path, body):
    if method == "GET":
        response = client.get(path)
    else:
        response = client.post(
            path, json.dumps(body), content_type="application/json", HTTP_X_CSRFTOKEN=CSRF
        )
    content = b"".join(response) if response.streaming else response.content
    return response, content


# -- load generation -------------------------------------------------------------------------


async def drive(base: str, make_request, *, seconds: float, warmup: float, concurrency: int):
    import httpx

    results = []
    stop_at = 0.0

    async def client_loop(n: int):
        rng = random.Random(n)
        async with httpx.AsyncClient(base_url=base, timeout=120) as client:
            while time.perf_counter() < stop_at:
                method, path, body, cookie = make_request(rng)
                client.cookies.clear()
                client.cookies.set("csrftoken", CSRF)
                if cookie:
                    client.cookies.set("sessionid", cookie)
                t0 = time.perf_counter()
                response = await client.request(
                    method, path, json=body, headers={"X-CSRFToken": CSRF, "Referer": base}
                )
                elapsed = time.perf_counter() - t0
                if measuring:
                    results.append(
                        (
                            elapsed,
                            response.status_code,
                            int(response.headers.get("X-Query-Count", -1)),
                            len(response.content),
                        )
                    )

    measuring = False
    stop_at = time.perf_counter() + warmup
    await asyncio.gather(*(client_loop(n) for n in range(concurrency)))
    measuring = True
    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.gather(*(client_loop(n + 100) for n in range(concurrency)))
    return results, time.perf_counter() - started


def summarize(results, wall: float) -> dict:
    latencies = [r[0] * 1000 for r in results]
    ok = [r for r in results if r[1] < 400]
    return {
        "requests": len(results),
        "errors": len(results) - len(ok),
        "statuses": sorted({r[1] for r in results}),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "rps": round(len(results) / wall, 1) if wall else 0,
        "queries": statistics.median([r[2] for r in results]) if results else None,
        "bytes": int(statistics.median([r[3] for r in results])) if results else 0,
    }


async def replay(app_url: str, statements, *, seconds: float, concurrency: int) -> dict:
    """The database ceiling: the captured statements, per 'request' one transaction."""
    import psycopg

    latencies = []
    stop_at = time.perf_counter() + seconds

    from django.conf import settings

    # The session options the app's connections get (e.g. jit=off), none of Django's work.
    options = settings.DATABASES["default"].get("OPTIONS", {}).get("options", "")

    async def worker():
        async with await psycopg.AsyncConnection.connect(
            app_url, cursor_factory=psycopg.AsyncClientCursor, options=options
        ) as conn:
            while time.perf_counter() < stop_at:
                t0 = time.perf_counter()
                async with conn.transaction(), conn.cursor() as cursor:
                    for sql, params, many in statements:
                        if many:
                            await cursor.executemany(sql, params)
                        else:
                            await cursor.execute(sql, params)
                            if cursor.description:
                                await cursor.fetchall()
                latencies.append((time.perf_counter() - t0) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - started
    return {
        "p50_ms": round(percentile(latencies, 50), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        "rps": round(len(latencies) / wall, 1),
    }


# -- one-shot scenarios ----------------------------------------------------------------------


def time_csv(base: str, fx: dict, repeat: int, limit: float = 120.0) -> dict:
    import httpx

    path = f"/teach/{fx['gradebook_slug']}/gradebook/?format=csv"
    times, size, queries = [], 0, None
    with httpx.Client(base_url=base, timeout=600) as client:
        for _ in range(repeat):
            t0 = time.perf_counter()
            client.cookies.set("sessionid", fx["teacher_cookie"])
            timed_out = False
            with client.stream("GET", path) as r:
                size = 0
                for chunk in r.iter_bytes():
                    size += len(chunk)
                    if time.perf_counter() - t0 > limit:
                        timed_out = True  # given up: the figure is then "more than limit"
                        break
                queries = r.headers.get("X-Query-Count")
                status = r.status_code
            times.append(time.perf_counter() - t0)
            if timed_out:
                break
    return {
        "status": status,
        "seconds_median": round(statistics.median(times), 2),  # a lower bound if timed out
        "seconds_max": round(max(times), 2),
        "bytes": size,
        "queries_before_first_byte": queries,
        "repeat": len(times),
        "timed_out_after_seconds": limit if timed_out else None,
    }


def time_bulk_enrollment(fx: dict, rows: int) -> dict:
    """10k rows through the bulk enrollment job (created, then run as its worker would),
    into a course nobody is enrolled in yet; the enrollments stay (each run uses a new course)."""
    from django.db import connection

    from apps.accounts.models import User

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.slug FROM content.course c WHERE c.status = 'published' "
            "AND c.slug LIKE 'bench-course-%%' AND NOT EXISTS (SELECT 1 FROM progress.enrollment e "
            "WHERE e.course_id = c.id) ORDER BY c.slug DESC LIMIT 1"
        )
        (slug,) = cursor.fetchone()
        cursor.execute(
            "SELECT email FROM accounts.\"user\" WHERE email LIKE 'learner%%' ORDER BY email "
            "LIMIT %s",
            [rows],
        )
        emails = [e for (e,) in cursor.fetchall()]
    context = system_context()
    context.__enter__()
    staff = User.all_objects.get(pk=fx["info"]["staff"])
    try:
        from apps.integrations.services.bulk import bulk_enrollment_create, bulk_enrollment_run
    except ImportError:
        bulk_enrollment_create = None
    t0 = time.perf_counter()
    if bulk_enrollment_create is not None:
        how = "integrations bulk enrollment job (create + run, in-process as the worker)"
        job = bulk_enrollment_create(
            owner=staff, rows=[{"email": e, "course": slug} for e in emails], source="json"
        )
        job = bulk_enrollment_run(job_id=job.pk)
        result = {"status": str(job.status), "processed": job.processed_rows}
    else:
        from apps.content.models import Course
        from apps.progress.services import enrollment_create

        how = "progress.services.enrollment_create in a loop (no bulk job API yet)"
        course = Course.objects.get(slug=slug)
        for user in User.objects.filter(email__in=emails):
            enrollment_create(user=user, course=course)
        result = {}
    context.__exit__(None, None, None)
    return {
        "rows": len(emails),
        "seconds": round(time.perf_counter() - t0, 2),
        "how": how,
        "course": slug,
        **result,
    }


# -- main ------------------------------------------------------------------------------------


def start_gunicorn(
    app_url: str, redis_url: str, port: int, log: Path, capture_dir: Path
) -> subprocess.Popen:
    env = {
        **os.environ,
        "BENCH_CAPTURE_DIR": str(capture_dir),  # the bare SQL view's captures
        "DATABASE_URL": app_url,
        "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "config.settings.bench",
        "DATABASE_CONN_MAX_AGE": "600",
    }
    process = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "config.wsgi",
            "--workers",
            str(WORKERS),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "600",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    import httpx

    for _ in range(240):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/bench/bare/?bytes=1").status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited: see {log}")
        time.sleep(0.5)
    process.terminate()
    raise SystemExit(f"gunicorn did not answer: see {log}")


TARGETS = {
    "outline": ("p95 <= 50 ms, <= 8 queries", lambda r: r["p95_ms"] <= 50 and r["queries"] <= 8),
    "heartbeat": (
        ">= 50% of the bare SQL view's throughput",
        lambda r: r["rps"] >= 0.5 * r["bare_sql"]["rps"],
    ),
    "gradebook_page": ("p95 <= 150 ms", lambda r: r["p95_ms"] <= 150),
    "catalog_search": ("p95 <= 50 ms", lambda r: r["p95_ms"] <= 50),
    "teacher_dashboard": ("p95 <= 100 ms", lambda r: r["p95_ms"] <= 100),
    "memory_recall": ("(none; reported)", lambda r: True),
}


def markdown(report: dict) -> str:
    m = report["machine"]
    lines = [
        f"# Benchmark: scale {report['scale']}",
        "",
        f"{report['started']} · commit {m['commit']}"
        f"{' (+ uncommitted changes)' if m['dirty'] else ''}"
        f" · {m['cpus']} x {m['cpu']} · {m['memory_gb']} GB · {m['postgres']} · "
        f"load average at start {m['loadavg_start'][0]:.1f}, end {report['loadavg_end'][0]:.1f}"
        f" · CPU calibration loop {m.get('cpu_loop_s_start', '?')} s at start, "
        f"{report.get('cpu_loop_s_end', '?')} s at end"
        " (shared machine: absolute numbers are noisy, ratios less so)",
        "",
        f"gunicorn: {report['workers']} sync workers; load: {report['concurrency']} concurrent "
        f"clients (asyncio + httpx, loopback); {report['warmup']} s warm-up, "
        f"{report['duration']} s measured per scenario and per reference.",
        "",
        "| scenario | p50 ms | p95 ms | p99 ms | req/s | queries | bare view req/s (app/bare)"
        " | bare SQL view req/s (app/bare SQL)"
        " | SQL only p50 ms, req/s (app/SQL latency) | target | met |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in report["scenarios"].items():
        target, _ = TARGETS[name]
        bare, sql = r["bare"], r["sql"]
        bare_sql = r.get("bare_sql")
        bare_sql_cell = (
            f"{bare_sql['rps']} ({r['rps'] / max(bare_sql['rps'], 0.01):.2f})" if bare_sql else "-"
        )
        lines.append(
            f"| {name} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | {r['rps']} | "
            f"{r['queries']} | {bare['rps']} ({r['rps'] / bare['rps']:.2f}) | {bare_sql_cell} | "
            f"{sql['p50_ms']}, {sql['rps']} ({r['p50_ms'] / max(sql['p50_ms'], 0.01):.1f}x) | "
            f"{target} | {'yes' if r['met'] else 'NO'} |"
        )
    csv = report.get("gradebook_csv")
    if csv:
        lines.append(
            f"| gradebook_csv (full export) | "
            f"{'> ' if csv.get('timed_out_after_seconds') else ''}"
            f"{csv['seconds_median'] * 1000:.0f} (median of {csv['repeat']}) "
            "| | | | | | | | <= 10 s | "
            f"{'yes' if csv['seconds_max'] <= 10 and not csv['timed_out_after_seconds'] else 'NO'}"
            " |"
        )
    bulk = report.get("bulk_enrollment")
    if bulk:
        lines.append(
            f"| bulk_enrollment ({bulk['rows']} rows) | {bulk['seconds'] * 1000:.0f} (once) | | | "
            f"| | | | | <= 10 s | {'yes' if bulk['seconds'] <= 10 else 'NO'} |"
        )
    lines += [
        "",
        "Bare SQL view: `/bench/bare-sql/?scenario=NAME`, the whole middleware stack around the"
        f" statements of one of {BARE_SQL_SAMPLES} requests of the scenario captured in-process"
        " (row-level security's set_config included), run on a raw cursor in one transaction,"
        " and the scenario's median response size: the framework's ceiling for the same SQL.",
    ]
    lines += ["", "Data generation (seconds per stage, from `public.bench_generate_stage`):", ""]
    for stage, data in report["generation"].items():
        if isinstance(data, dict):
            lines.append(f"- {stage}: {data['rows']:,} rows, {data['seconds']} s")
    refresh = report["generation"].get("finish", {}).get("info", {}).get("refresh_seconds")
    if refresh:
        lines.append(f"- materialized view refresh (in finish): {refresh}")
    if csv:
        lines.append(f"\nGradebook CSV: {csv}")
    if bulk:
        lines.append(f"\nBulk enrollment: {bulk}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=float(os.environ.get("SCALE", 0.01)))
    parser.add_argument("--full", action="store_true", help="scale 1 (lyceum_bench)")
    parser.add_argument("--duration", type=float, default=None, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument(
        "--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
    )
    parser.add_argument("--skip-bulk", action="store_true")
    parser.add_argument("--database", default="", help="database name (default by scale)")
    parser.add_argument("--no-migrate", action="store_true", help="do not run migrate first")
    args = parser.parse_args()
    scale = 1.0 if args.full else args.scale
    duration = args.duration or (20 if scale >= 1 else 8)
    name = args.database or (
        "lyceum_bench" if scale >= 1 else f"lyceum_bench_{str(scale).replace('.', '_')}"
    )
    started = datetime.now(UTC)
    info = machine()
    _owner, app, stages = prepare_database(name, scale, migrate=not args.no_migrate)
    django_setup(app, args.redis)
    fx = fixtures(stages)
    chosen = scenarios(fx)
    if args.only:
        chosen = {k: v for k, v in chosen.items() if k in args.only.split(",")}
    RESULTS.mkdir(parents=True, exist_ok=True)
    log = Path(tempfile.gettempdir()) / f"bench-gunicorn-{args.port}.log"
    capture_dir = Path(tempfile.mkdtemp(prefix="bench-capture-"))
    server = start_gunicorn(app, args.redis, args.port, log, capture_dir)
    base = f"http://127.0.0.1:{args.port}"
    report = {
        "scale": scale,
        "database": name,
        "started": started.isoformat(timespec="seconds"),
        "machine": info,
        "workers": WORKERS,
        "concurrency": args.concurrency,
        "warmup": args.warmup,
        "duration": duration,
        "generation": stages,
        "scenarios": {},
    }
    try:
        for scenario, make in chosen.items():
            statements, status, size = capture_sql(make(random.Random(1)))
            print(f"{scenario}: {len(statements)} statements in-process, status {status}")
            results, wall = asyncio.run(
                drive(
                    base, make, seconds=duration, warmup=args.warmup, concurrency=args.concurrency
                )
            )
            row = summarize(results, wall)
            bare_size = row["bytes"] or size

            def bare(rng, bare_size=bare_size):
                return "GET", f"/bench/bare/?bytes={bare_size}", None, None

            bare_results, bare_wall = asyncio.run(
                drive(base, bare, seconds=duration, warmup=1, concurrency=args.concurrency)
            )
            row["bare"] = summarize(bare_results, bare_wall)
            if scenario in BARE_SQL:
                captured = write_capture(capture_dir, scenario, make, bare_size)

                def bare_sql(rng, scenario=scenario, bare_size=bare_size):
                    path = f"/bench/bare-sql/?scenario={scenario}&bytes={bare_size}"
                    return "GET", path, None, None

                sql_results, sql_wall = asyncio.run(
                    drive(base, bare_sql, seconds=duration, warmup=1, concurrency=args.concurrency)
                )
                row["bare_sql"] = summarize(sql_results, sql_wall)
                row["bare_sql"]["statements"] = captured
            row["sql"] = asyncio.run(
                replay(app, statements, seconds=duration, concurrency=args.concurrency)
            )
            row["statements_captured"] = len(statements)
            row["met"] = bool(TARGETS[scenario][1](row)) and row["errors"] == 0
            report["scenarios"][scenario] = row
            write_results(report, scale)
            print(
                "  "
                + json.dumps({k: row[k] for k in ("p50_ms", "p95_ms", "rps", "queries", "errors")})
                + f" bare {row['bare']['rps']} req/s, SQL {row['sql']}"
                + (f", bare SQL {row['bare_sql']['rps']} req/s" if "bare_sql" in row else "")
            )
        if not args.only or "gradebook_csv" in args.only:
            report["gradebook_csv"] = time_csv(base, fx, repeat=1 if scale >= 1 else 2)
            write_results(report, scale)
            print(f"gradebook_csv: {report['gradebook_csv']}")
        if not args.skip_bulk and (not args.only or "bulk" in args.only):
            report["bulk_enrollment"] = time_bulk_enrollment(fx, 10_000)
            write_results(report, scale)
            print(f"bulk_enrollment: {report['bulk_enrollment']}")
    finally:
        shutil.rmtree(capture_dir, ignore_errors=True)
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a worker still busy with a long request
            server.kill()
            server.wait()
    print(write_results(report, scale))


def write_results(report: dict, scale: float) -> str:
    """Write (or rewrite: after each scenario, so an interrupted run keeps what it measured)."""
    report["loadavg_end"] = os.getloadavg()
    report["cpu_loop_s_end"] = cpu_calibration()
    stem = "scale-full" if scale >= 1 else f"scale-{scale}"
    text = markdown(report)
    (RESULTS / f"{stem}.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    (RESULTS / f"{stem}.md").write_text(text)
    return text


if __name__ == "__main__":
    main()
