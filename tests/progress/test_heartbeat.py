"""The heartbeat's cost and its aggregates: it reads the enrollment once (locking only its row),
the lesson once, and recomputes the enrollment's aggregates only when they can have changed
(a lesson completed, or the course's lesson count moved since the last recompute)."""

from decimal import Decimal

import pytest
from django.db import connection

from apps.audit.selectors import domain_events
from apps.progress import services
from apps.progress.models import Activity, Certificate, Enrollment, LessonProgress
from tests.accounts.factories import UserFactory
from tests.content.factories import LessonFactory

pytestmark = pytest.mark.django_db
BASE = "/api/v1/progress"

# A heartbeat that completes nothing, through the API (authenticated without a session): the
# request's savepoint (a transaction outside tests) and the service's, with their releases; the
# enrollment read and locked with the course's lesson count; the lesson with whether it was
# already done; one statement for the progress upsert (returning the row), the enrollment's time
# and last access and the activity row. Was 16 (19 statements under the benchmark, session and
# RLS included) before the aggregates were recomputed only when they can change: the enrollment
# was read twice, the lesson fully and its done-ness apart, three aggregate queries ran (done
# count, quiz average, the course's lesson COUNT), the enrollment saved whole, the learner loaded
# again, the activity inserted apart and the progress row read back.
HEARTBEAT_QUERIES = 7


def beat(api_client, enrollment, lesson, percent, **extra):
    return api_client.post(
        f"{BASE}/enrollments/{enrollment.pk}/progress/",
        {"lesson": str(lesson.pk), "percent": percent, "time_delta_seconds": 20, **extra},
        format="json",
    )


def test_a_heartbeat_runs_a_pinned_number_of_queries(
    api_client, learner, course, django_assert_num_queries
):
    enrollment = services.enrollment_create(user=learner, course=course)
    api_client.force_authenticate(learner)
    lesson = course.test_lessons[0]
    beat(api_client, enrollment, lesson, 10)
    with django_assert_num_queries(HEARTBEAT_QUERIES) as captured:
        response = beat(api_client, enrollment, lesson, 40, position={"t": 12})
    assert response.status_code == 200
    locking = [q["sql"] for q in captured.captured_queries if "FOR NO KEY UPDATE" in q["sql"]]
    assert len(locking) == 1 and '"content"."course"' not in locking[0].split("FROM", 1)[1]
    assert response.json() == {
        "lesson": str(lesson.pk),
        "progress_percent": "40.00",
        "time_spent_seconds": 40,
        "completed_at": None,
        "last_position": {"t": 12},
    }


def test_a_heartbeat_without_completion_keeps_the_aggregates_and_adds_time(
    api_client, learner, course
):
    enrollment = services.enrollment_create(user=learner, course=course)
    api_client.force_authenticate(learner)
    first, second = course.test_lessons[:2]
    assert beat(api_client, enrollment, first, 100).json()["completed_at"] is not None
    enrollment.refresh_from_db()
    assert (enrollment.completed_lessons, enrollment.progress_percent) == (1, Decimal("25.00"))
    before = enrollment.last_accessed_at
    for _ in range(2):
        assert beat(api_client, enrollment, second, 30).status_code == 200
    assert beat(api_client, enrollment, first, 50).status_code == 200  # no going backwards
    enrollment.refresh_from_db()
    assert (enrollment.completed_lessons, enrollment.total_lessons) == (1, 4)
    assert enrollment.progress_percent == Decimal("25.00")
    assert enrollment.study_time_seconds == 80
    assert enrollment.last_accessed_at > before
    assert LessonProgress.objects.get(enrollment=enrollment, lesson=first).progress_percent == 100
    events = [e.event_type for e in domain_events(aggregate_id=enrollment.pk)]
    assert events.count("lesson.completed") == 1
    rows = Activity.objects.filter(user=learner, activity_type="lesson_progress")
    assert rows.count() == 4
    last = rows.order_by("-created_at", "-id").first()
    assert (last.resource_type, last.resource_id, last.course_id) == ("lesson", first.pk, course.pk)
    assert (last.data, last.duration_seconds) == ({"percent": "50.00"}, 20)


def test_a_lesson_added_to_the_course_counts_at_the_next_heartbeat(api_client, learner, course):
    enrollment = services.enrollment_create(user=learner, course=course)
    api_client.force_authenticate(learner)
    beat(api_client, enrollment, course.test_lessons[0], 100)
    LessonFactory(module=course.test_lessons[0].module, position=3, title="Added later")
    beat(api_client, enrollment, course.test_lessons[1], 30)
    enrollment.refresh_from_db()
    assert (enrollment.completed_lessons, enrollment.total_lessons) == (1, 5)
    assert enrollment.progress_percent == Decimal("20.00")


def test_a_lesson_removed_from_the_course_can_complete_it_at_the_next_heartbeat(
    api_client, learner, course
):
    enrollment = services.enrollment_create(user=learner, course=course)
    api_client.force_authenticate(learner)
    for lesson in course.test_lessons[:3]:
        beat(api_client, enrollment, lesson, 100)
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.completed_lessons) == ("active", 3)
    course.test_lessons[3].delete()  # the quiz lesson, never passed
    assert beat(api_client, enrollment, course.test_lessons[0], 100).status_code == 200
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.total_lessons) == ("completed", 3)
    assert enrollment.progress_percent == 100 and enrollment.certificate_issued
    assert Certificate.objects.filter(enrollment=enrollment).exists()


def test_the_completing_heartbeat_completes_the_course(api_client, learner, course):
    course.test_lessons[3].delete()
    enrollment = services.enrollment_create(user=learner, course=course)
    api_client.force_authenticate(learner)
    for lesson in course.test_lessons[:2]:
        beat(api_client, enrollment, lesson, 100)
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.progress_percent) == ("active", Decimal("66.67"))
    beat(api_client, enrollment, course.test_lessons[2], 100)
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.completed_lessons) == ("completed", 3)
    assert enrollment.certificate_issued and enrollment.completed_at is not None
    events = [e.event_type for e in domain_events(aggregate_id=enrollment.pk)]
    assert events.count("lesson.completed") == 3 and "course.completed" in events


def test_someone_elses_enrollment_is_a_404_and_unchanged(api_client, learner, course):
    enrollment = services.enrollment_create(user=learner, course=course)
    api_client.force_authenticate(UserFactory())
    response = beat(api_client, enrollment, course.test_lessons[0], 50)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert not LessonProgress.objects.filter(enrollment=enrollment).exists()
    assert Enrollment.objects.get(pk=enrollment.pk).study_time_seconds == 0


def test_the_heartbeat_locks_only_the_enrollment_row(learner, course):
    """Another learner's heartbeat in the same course must not wait on a course lock."""
    enrollment = services.enrollment_create(user=learner, course=course)
    captured = []

    def capture(execute, sql, params, many, context):
        captured.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        services.lesson_progress_record(
            enrollment=enrollment, lesson_id=course.test_lessons[0].pk, percent=10
        )
    locking = [sql for sql in captured if " FOR " in sql and "UPDATE" in sql.split(" FOR ")[-1]]
    assert len(locking) == 1 and locking[0].rstrip().endswith("FOR NO KEY UPDATE")
