"""A small world of learning: one course with four learners at different stages (through the
progress services, so the activity stream is real), a second course, and older activity."""

import datetime as dt

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from apps.analytics.models import VIEWS
from apps.progress.models import Activity, Enrollment
from apps.progress.services import (
    enrollment_create,
    enrollment_drop,
    lesson_progress_record,
    quiz_attempt_submit,
)
from tests.accounts.factories import UserFactory
from tests.conftest import database_connect
from tests.content.factories import CourseFactory, LessonFactory, ModuleFactory, published
from tests.progress.conftest import RIGHT_ANSWERS, course, learner  # noqa: F401 (fixtures)


@pytest.fixture
def world(course):  # noqa: F811
    """Course: `done` completed it, `half` is half-way with a failed quiz, `idle` only enrolled
    (ten days ago, idle since), `gone` dropped. `done` is also in a second course. Two activity
    rows of `half` from earlier days."""
    lessons, quiz = course.test_lessons, course.test_quiz
    done, half, idle, gone = (UserFactory() for _ in range(4))
    e_done = enrollment_create(user=done, course=course)
    for lesson in lessons[:3]:
        lesson_progress_record(
            enrollment=e_done, lesson_id=lesson.pk, percent=100, time_delta_seconds=120
        )
    quiz_attempt_submit(enrollment=e_done, quiz_id=quiz.pk, answers={"q1": "a"})
    quiz_attempt_submit(enrollment=e_done, quiz_id=quiz.pk, answers=RIGHT_ANSWERS)
    e_half = enrollment_create(user=half, course=course)
    lesson_progress_record(
        enrollment=e_half, lesson_id=lessons[0].pk, percent=100, time_delta_seconds=300
    )
    lesson_progress_record(
        enrollment=e_half, lesson_id=lessons[1].pk, percent=50, time_delta_seconds=60
    )
    quiz_attempt_submit(enrollment=e_half, quiz_id=quiz.pk, answers={"q1": "a", "q2": False})
    e_idle = enrollment_create(user=idle, course=course)
    e_gone = enrollment_create(user=gone, course=course)
    enrollment_drop(enrollment=e_gone)

    other = published(CourseFactory(instructor=course.instructor))
    other_lesson = LessonFactory(module=ModuleFactory(course=other, position=1), position=1)
    e_other = enrollment_create(user=done, course=other)
    lesson_progress_record(
        enrollment=e_other, lesson_id=other_lesson.pk, percent=30, time_delta_seconds=45
    )

    now = timezone.now()
    Enrollment.objects.filter(pk=e_idle.pk).update(
        created_at=now - dt.timedelta(days=10), last_accessed_at=now - dt.timedelta(days=10)
    )
    Enrollment.objects.filter(pk=e_gone.pk).update(created_at=now - dt.timedelta(days=3))
    Activity.objects.bulk_create(
        [
            Activity(
                user=half,
                activity_type="lesson_view",
                resource_type="lesson",
                resource_id=lessons[0].pk,
                course_id=course.pk,
                duration_seconds=600,
                created_at=now - dt.timedelta(days=2),
            ),
            Activity(
                user=half,
                activity_type="lesson_view",
                resource_type="lesson",
                resource_id=lessons[2].pk,
                course_id=course.pk,
                duration_seconds=900,
                created_at=now - dt.timedelta(days=40),
            ),
        ]
    )
    return {
        "course": course,
        "other": other,
        "teacher": course.instructor,
        "done": done,
        "half": half,
        "idle": idle,
        "gone": gone,
        "enrollments": {"done": e_done, "half": e_half, "idle": e_idle, "gone": e_gone},
    }


def refresh(*views: str) -> None:
    """Refresh views through the SECURITY DEFINER function, in the test's transaction."""
    with connection.cursor() as cursor:
        for view in views or VIEWS:
            cursor.execute("SELECT outcome FROM analytics.refresh_view(%s)", [view])
            assert cursor.fetchone()[0] == "refreshed"


def connect(*, app_role: bool = True, autocommit: bool = False) -> psycopg.Connection:
    """A separate connection to the test database, as the app role by default."""
    return database_connect(app_role=app_role, autocommit=autocommit)
