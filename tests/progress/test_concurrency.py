"""Capacity holds under 50 concurrent enrollments through separate connections; concurrent
heartbeats lose nothing."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connections

from apps.core.exceptions import ConflictError
from apps.progress import services
from apps.progress.models import Enrollment, LessonProgress
from tests.accounts.factories import UserFactory
from tests.content.factories import CourseFactory, LessonFactory, ModuleFactory, published

pytestmark = pytest.mark.django_db(transaction=True)


def test_fifty_concurrent_enrollments_fill_exactly_ten_seats():
    course = published(CourseFactory(max_enrollments=10))
    LessonFactory(module=ModuleFactory(course=course))
    learners = [UserFactory() for _ in range(50)]
    start = threading.Barrier(50)

    def enroll(user):
        try:
            start.wait()
            services.enrollment_create(user=user, course=course)
            return "enrolled"
        except ConflictError as error:
            return error.code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(enroll, learners))
    assert outcomes.count("enrolled") == 10
    assert outcomes.count("course_full") == 40
    assert Enrollment.objects.filter(course=course).count() == 10


def test_concurrent_heartbeats_on_overlapping_lessons_lose_nothing():
    course = published(CourseFactory())
    module = ModuleFactory(course=course)
    lessons = [LessonFactory(module=module, position=i + 1) for i in range(4)]
    learner = UserFactory()
    enrollment = services.enrollment_create(user=learner, course=course)
    beats = [(lessons[i % 4].pk, (i % 10) * 10 + 10) for i in range(40)]

    def beat(item):
        lesson_id, percent = item
        try:
            services.lesson_progress_record(
                enrollment=enrollment, lesson_id=lesson_id, percent=percent, time_delta_seconds=5
            )
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(beat, beats))
    rows = LessonProgress.objects.filter(enrollment=enrollment)
    assert rows.count() == 4
    assert sum(row.time_spent_seconds for row in rows) == 200
    for lesson in lessons:
        expected = max(p for lesson_id, p in beats if lesson_id == lesson.pk)
        assert rows.get(lesson=lesson).progress_percent == Decimal(expected)
    enrollment.refresh_from_db()
    done = rows.filter(completed_at__isnull=False).count()
    assert enrollment.completed_lessons == done
    assert enrollment.study_time_seconds == 200
