"""Drill: 200 concurrent progress writers on overlapping lessons lose nothing."""

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connections
from django.db.models import Count

from apps.progress import services
from apps.progress.models import Enrollment, LessonProgress
from tests.accounts.factories import UserFactory
from tests.content.factories import CourseFactory, LessonFactory, ModuleFactory, published

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_hundred_concurrent_writers_on_overlapping_lessons():
    course = published(CourseFactory())
    module = ModuleFactory(course=course)
    lessons = [LessonFactory(module=module, position=i + 1) for i in range(5)]
    # A quiz nobody takes keeps the enrollments active while every other lesson completes.
    LessonFactory(module=module, position=6, lesson_type="quiz")
    enrollments = [services.enrollment_create(user=UserFactory(), course=course) for _ in range(4)]
    writes = [(enrollments[i % 4], lessons[(i * 7) % 5], (i % 11) * 10, 3) for i in range(200)]

    def write(item):
        enrollment, lesson, percent, seconds = item
        try:
            services.lesson_progress_record(
                enrollment=enrollment,
                lesson_id=lesson.pk,
                percent=percent,
                time_delta_seconds=seconds,
            )
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=20) as pool:
        list(pool.map(write, writes))

    expected_max = defaultdict(int)
    expected_time = defaultdict(int)
    for enrollment, lesson, percent, seconds in writes:
        key = (enrollment.pk, lesson.pk)
        expected_max[key] = max(expected_max[key], percent)
        expected_time[key] += seconds
    rows = {(r.enrollment_id, r.lesson_id): r for r in LessonProgress.objects.all()}
    duplicates = (
        LessonProgress.objects.values("enrollment", "lesson")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    lost = [
        k
        for k in expected_max
        if rows[k].progress_percent != Decimal(expected_max[k])
        or rows[k].time_spent_seconds != expected_time[k]
    ]
    inconsistent = []
    for enrollment in Enrollment.objects.all():
        done = LessonProgress.objects.filter(
            enrollment=enrollment, completed_at__isnull=False
        ).count()
        total_time = sum(
            r.time_spent_seconds for r in rows.values() if r.enrollment_id == enrollment.pk
        )
        if (enrollment.completed_lessons, enrollment.study_time_seconds) != (done, total_time):
            inconsistent.append(enrollment.pk)
    print(
        f"\n200 writers, 20 connections: {len(rows)} rows for {len(expected_max)} "
        f"(enrollment, lesson) pairs, {duplicates} duplicates, {len(lost)} lost updates, "
        f"{len(inconsistent)} inconsistent enrollments"
    )
    assert len(rows) == len(expected_max)
    assert duplicates == 0
    assert lost == []
    assert inconsistent == []
