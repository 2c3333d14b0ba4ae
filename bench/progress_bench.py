"""Progress: heartbeat writes per second through the API, and the learner's course outline
latency on a generated 1,000-lesson course.

    .venv/bin/python bench/progress_bench.py [--lessons 1000] [--heartbeats 2000] [--outlines 50]

Runs in-process through Django's test client (the whole request stack: middleware, auth,
atomic request, audit context), single-threaded, in one transaction rolled back at the end.
"""

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django

django.setup()

from django.db import connection, transaction
from django.test import Client

from apps.accounts.models import User
from apps.content.models import Course, Lesson, Module
from apps.progress.services import enrollment_create


def build_course(lessons: int) -> tuple[Course, list[Lesson]]:
    teacher = User.objects.create_user(
        email=f"bench-{uuid.uuid4().hex[:8]}@example.org",
        password=None,
        username=f"bench-{uuid.uuid4().hex[:8]}",
    )
    course = Course.objects.create(
        title="Bench course", slug=f"bench-{uuid.uuid4().hex[:8]}", instructor=teacher
    )
    Course.all_objects.filter(pk=course.pk).update(status="review")
    Course.all_objects.filter(pk=course.pk).update(status="published")
    per_module = 50
    modules = Module.objects.bulk_create(
        Module(course=course, title=f"Module {m + 1}", position=m + 1)
        for m in range((lessons + per_module - 1) // per_module)
    )
    rows = Lesson.objects.bulk_create(
        Lesson(
            module=modules[i // per_module],
            title=f"Lesson {i + 1}",
            position=i % per_module + 1,
            content="Text",
        )
        for i in range(lessons)
    )
    course.refresh_from_db()
    return course, rows


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", type=int, default=1000)
    parser.add_argument("--heartbeats", type=int, default=2000)
    parser.add_argument("--outlines", type=int, default=50)
    args = parser.parse_args()

    with transaction.atomic():
        started = time.perf_counter()
        course, lessons = build_course(args.lessons)
        learner = User.objects.create_user(
            email=f"learner-{uuid.uuid4().hex[:8]}@example.org",
            password=None,
            username=f"l-{uuid.uuid4().hex[:8]}",
        )
        enrollment = enrollment_create(user=learner, course=course)
        setup = time.perf_counter() - started
        client = Client(HTTP_HOST="localhost")
        client.force_login(learner)
        url = f"/api/v1/progress/enrollments/{enrollment.pk}/progress/"

        beat_times = []
        for i in range(args.heartbeats):
            lesson = lessons[i % len(lessons)]
            t0 = time.perf_counter()
            response = client.post(
                url,
                {"lesson": str(lesson.pk), "percent": (i % 10) * 10 + 10, "time_delta_seconds": 15},
                content_type="application/json",
            )
            beat_times.append(time.perf_counter() - t0)
            if response.status_code != 200:
                raise SystemExit(f"heartbeat failed: {response.status_code} {response.content!r}")
        outline_times = []
        queries = []  # request_started resets Django's query log, so count with a wrapper

        def count(execute, sql, params, many, context):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            first = client.get(f"/learn/{course.slug}/")
        if first.status_code != 200:
            raise SystemExit(f"outline failed: {first.status_code}")
        for _ in range(args.outlines):
            t0 = time.perf_counter()
            response = client.get(f"/learn/{course.slug}/")
            outline_times.append(time.perf_counter() - t0)
            if response.status_code != 200:
                raise SystemExit(f"outline failed: {response.status_code}")
        transaction.set_rollback(True)

    ms = 1000
    print(
        f"progress bench: {args.lessons} lessons, {args.heartbeats} heartbeats, "
        f"{args.outlines} outline loads; {os.cpu_count()} cores, single client thread; "
        f"setup {setup:.1f}s"
    )
    print()
    print("| measure | p50 (ms) | p95 (ms) | rate |")
    print("| --- | --- | --- | --- |")
    print(
        f"| heartbeat POST (API) | {statistics.median(beat_times) * ms:.1f} | "
        f"{percentile(beat_times, 95) * ms:.1f} | {len(beat_times) / sum(beat_times):.0f}/s |"
    )
    print(
        f"| course outline page ({args.lessons} lessons, {len(queries)} queries) | "
        f"{statistics.median(outline_times) * ms:.1f} | {percentile(outline_times, 95) * ms:.1f} | "
        f"{len(outline_times) / sum(outline_times):.1f}/s |"
    )


if __name__ == "__main__":
    main()
