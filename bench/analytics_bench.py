"""Analytics: dashboard queries from the materialized views against the same aggregates computed
live from the activity stream, and how long the refreshes take, on N generated activity rows.

    .venv/bin/python bench/analytics_bench.py [--rows 10000000] [--users 2000] [--repeat 20]

Generates 20 courses of 20 lessons (ORM) and N activity rows in study sessions (one learner,
one course, 5-40 events a minute apart) spread over the last 12 months, with COPY (not the ORM)
into progress.activity; refreshes the views through analytics.refresh_view (CONCURRENTLY, as
beat does), then times each dashboard query against the views and the equivalent live
aggregate. Everything runs in one transaction that is rolled
back at the end, so the database is left as it was (it needs the disk space meanwhile).
"""

import argparse
import io
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django

django.setup()

from django.db import connection, transaction

from apps.accounts.models import User
from apps.content.models import Course, Lesson, Module

COURSES, LESSONS_PER_COURSE = 20, 20
TYPES = ("lesson_progress",) * 6 + ("lesson_view",) * 3 + ("quiz_attempt",)
CHUNK = 200_000


def build_catalog() -> list[tuple[uuid.UUID, list[uuid.UUID]]]:
    teacher = User.objects.create_user(
        email=f"bench-{uuid.uuid4().hex[:8]}@example.org",
        password=None,
        username=f"bench-{uuid.uuid4().hex[:8]}",
    )
    catalog = []
    for c in range(COURSES):
        course = Course.objects.create(
            title=f"Bench course {c}", slug=f"bench-{uuid.uuid4().hex[:10]}", instructor=teacher
        )
        module = Module.objects.create(course=course, title="Module", position=1)
        lessons = Lesson.objects.bulk_create(
            Lesson(module=module, title=f"Lesson {i}", position=i + 1)
            for i in range(LESSONS_PER_COURSE)
        )
        catalog.append((course.pk, [lesson.pk for lesson in lessons]))
    return catalog


def copy_activity(rows: int, users: list[uuid.UUID], catalog) -> float:
    """COPY `rows` activity rows in chunks; returns the seconds it took."""
    now = datetime.now(UTC)
    span = 365 * 24 * 3600
    rnd = random.Random(7)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT public.lyceum_ensure_monthly_partitions('progress.activity'::regclass, 1, 12)"
        )
        with cursor.copy(
            "COPY progress.activity (created_at, user_id, activity_type, resource_type, "
            "resource_id, course_id, data, duration_seconds, session_id, user_agent) FROM STDIN"
        ) as copy:
            done = 0
            while done < rows:
                buffer = io.StringIO()
                batch = 0
                while batch < min(CHUNK, rows - done):
                    # A study session: one learner, one course, 5-40 events a minute apart.
                    user = users[rnd.randrange(len(users))]
                    course, lessons = catalog[rnd.randrange(COURSES)]
                    at = now - timedelta(seconds=rnd.randrange(span))
                    for _ in range(min(rnd.randint(5, 40), rows - done - batch)):
                        kind = TYPES[rnd.randrange(len(TYPES))]
                        resource = "quiz" if kind == "quiz_attempt" else "lesson"
                        buffer.write(
                            f"{at.isoformat()}\t{user}\t{kind}\t{resource}\t"
                            f"{lessons[rnd.randrange(LESSONS_PER_COURSE)]}\t{course}\t"
                            f"{{}}\t{rnd.randrange(0, 60)}\t\t\n"
                        )
                        at += timedelta(seconds=60)
                        batch += 1
                copy.write(buffer.getvalue())
                done += batch
                print(f"  copied {done:,} rows", file=sys.stderr, end="\r")
        print(file=sys.stderr)
        cursor.execute("ANALYZE progress.activity")
    return time.perf_counter() - started


def timed(sql: str, params, repeat: int) -> tuple[float, float, int]:
    """p50 and p95 in ms over `repeat` runs, and the rows returned."""
    times = []
    with connection.cursor() as cursor:
        for _ in range(repeat):
            clock = time.perf_counter()
            cursor.execute(sql, params)
            got = len(cursor.fetchall())
            times.append((time.perf_counter() - clock) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))], got


def refresh(view: str) -> tuple[float, int]:
    with connection.cursor() as cursor:
        clock = time.perf_counter()
        cursor.execute("SELECT outcome, row_total FROM analytics.refresh_view(%s)", [view])
        outcome, rows = cursor.fetchone()
    if outcome != "refreshed":
        raise RuntimeError(f"{view}: {outcome}")
    return time.perf_counter() - clock, rows


# (name, from the views, the same computed live) - the dashboards' own queries.
QUERIES = [
    (
        "overview: daily active users, 30 days",
        """SELECT day, count(DISTINCT user_id) FROM analytics.user_activity_daily
           WHERE day > (now() AT TIME ZONE 'UTC')::date - 30 GROUP BY day""",
        """SELECT (created_at AT TIME ZONE 'UTC')::date AS day, count(DISTINCT user_id)
           FROM progress.activity WHERE created_at > date_trunc('day', now()) - interval '29 days'
           GROUP BY 1""",
        [],
    ),
    (
        "my stats: one learner's minutes per day, 30 days",
        """SELECT day, sum(events), sum(duration_seconds) FROM analytics.user_activity_daily
           WHERE user_id = %s AND day > (now() AT TIME ZONE 'UTC')::date - 30 GROUP BY day""",
        """SELECT (created_at AT TIME ZONE 'UTC')::date, count(*), sum(duration_seconds)
           FROM progress.activity WHERE user_id = %s
           AND created_at > date_trunc('day', now()) - interval '29 days' GROUP BY 1""",
        ["user"],
    ),
    (
        "course: lesson views and viewers per lesson",
        """SELECT lesson_id, views, viewers FROM analytics.lesson_statistics
           WHERE course_id = %s ORDER BY module_position, position""",
        """SELECT resource_id, count(*), count(DISTINCT user_id) FROM progress.activity
           WHERE resource_type = 'lesson' AND course_id = %s GROUP BY resource_id""",
        ["course"],
    ),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--live-repeat", type=int, default=5)
    args = parser.parse_args()

    with transaction.atomic():
        catalog = build_catalog()
        users = [uuid.uuid4() for _ in range(args.users)]
        copy_seconds = copy_activity(args.rows, users, catalog)
        print(f"COPY {args.rows:,} activity rows: {copy_seconds:.1f} s")
        print("\nrefresh (CONCURRENTLY, through analytics.refresh_view):")
        for view in ("user_activity_daily", "lesson_statistics", "course_performance"):
            first, rows = refresh(view)
            again, _ = refresh(view)
            print(f"  {view}: {first:.1f} s after the load, {again:.1f} s again; {rows:,} rows")
            with connection.cursor() as cursor:  # as autovacuum would after a refresh
                cursor.execute(f"ANALYZE analytics.{view}")
        params = {"user": users[0], "course": catalog[0][0]}
        print(f"\nquery latency, p50 / p95 ms (views x{args.repeat}, live x{args.live_repeat}):")
        print(f"  {'query':<50} {'view':>18} {'live':>20}")
        for name, view_sql, live_sql, keys in QUERIES:
            values = [params[k] for k in keys]
            v50, v95, vrows = timed(view_sql, values, args.repeat)
            l50, l95, lrows = timed(live_sql, values, args.live_repeat)
            if vrows != lrows:
                raise RuntimeError(f"{name}: the view gave {vrows} rows, live {lrows}")
            print(f"  {name:<50} {v50:8.2f} / {v95:7.2f} {l50:9.1f} / {l95:8.1f}")
        transaction.set_rollback(True)
    print("\n(rolled back)")


if __name__ == "__main__":
    main()
