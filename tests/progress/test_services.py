"""Enrolling, progress, quizzes, completion and certificates through the services."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from apps.audit.selectors import domain_events
from apps.core.exceptions import ConflictError, DomainError, PermissionDeniedError
from apps.progress import services
from apps.progress.models import Activity, Certificate, Enrollment, LessonProgress
from tests.accounts.factories import UserFactory
from tests.content.factories import CourseFactory, LessonFactory, ModuleFactory, published
from tests.progress.conftest import RIGHT_ANSWERS

pytestmark = pytest.mark.django_db


def test_enroll_sets_totals_records_event_and_activity(learner, course):
    enrollment = services.enrollment_create(user=learner, course=course)
    assert (enrollment.status, enrollment.total_lessons) == ("active", 4)
    assert [e.event_type for e in domain_events(aggregate_id=enrollment.pk)] == [
        "enrollment.created"
    ]
    assert Activity.objects.filter(user=learner, activity_type="enrolled").count() == 1


def test_enrolling_twice_is_a_conflict(learner, course):
    services.enrollment_create(user=learner, course=course)
    with pytest.raises(ConflictError) as error:
        services.enrollment_create(user=learner, course=course)
    assert error.value.code == "already_enrolled"
    assert Enrollment.objects.filter(user=learner).count() == 1


def test_unpublished_paid_and_prerequisite_courses_refuse(learner, course):
    draft = CourseFactory()
    with pytest.raises(ConflictError, match="not open"):
        services.enrollment_create(user=learner, course=draft)
    paid = published(CourseFactory(access_type="paid", price_minor=4900))
    with pytest.raises(PermissionDeniedError) as error:
        services.enrollment_create(user=learner, course=paid)
    assert error.value.code == "payment_required"
    advanced = published(CourseFactory())
    advanced.prerequisites.add(course)
    with pytest.raises(PermissionDeniedError) as error:
        services.enrollment_create(user=learner, course=advanced)
    assert error.value.fields == {"prerequisites": [course.title]}
    assert not Enrollment.objects.filter(user=learner).exists()


def test_full_course_is_a_conflict(course):
    course.max_enrollments = 1
    course.save()
    services.enrollment_create(user=UserFactory(), course=course)
    with pytest.raises(ConflictError) as error:
        services.enrollment_create(user=UserFactory(), course=course)
    assert error.value.code == "course_full"


def test_dropping_frees_the_seat_and_re_enrolling_reactivates(course):
    course.max_enrollments = 1
    course.save()
    first, second = UserFactory(), UserFactory()
    enrollment = services.enrollment_create(user=first, course=course)
    services.enrollment_drop(enrollment=enrollment)
    services.enrollment_create(user=second, course=course)
    with pytest.raises(ConflictError, match="full"):
        services.enrollment_create(user=first, course=course)


def test_progress_is_monotonic_and_time_adds_up(learner, course):
    enrollment = services.enrollment_create(user=learner, course=course)
    lesson = course.test_lessons[0]
    services.lesson_progress_record(
        enrollment=enrollment,
        lesson_id=lesson.pk,
        percent=60,
        time_delta_seconds=30,
        position={"scroll": 0.6},
    )
    row = services.lesson_progress_record(
        enrollment=enrollment, lesson_id=lesson.pk, percent=40, time_delta_seconds=20
    )
    assert row.progress_percent == Decimal("60.00")
    assert row.time_spent_seconds == 50
    assert row.last_position == {"scroll": 0.6}
    enrollment.refresh_from_db()
    assert enrollment.study_time_seconds == 50


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"percent": 101}, DomainError),
        ({"percent": -1}, DomainError),
        ({"percent": 10, "time_delta_seconds": -5}, DomainError),
        ({"percent": 10, "time_delta_seconds": 100000}, DomainError),
    ],
)
def test_bad_heartbeats_are_refused_and_nothing_is_written(learner, course, kwargs, error):
    enrollment = services.enrollment_create(user=learner, course=course)
    with pytest.raises(error):
        services.lesson_progress_record(
            enrollment=enrollment, lesson_id=course.test_lessons[0].pk, **kwargs
        )
    assert not LessonProgress.objects.exists()


def test_progress_for_a_lesson_of_another_course_is_refused(learner, course):
    enrollment = services.enrollment_create(user=learner, course=course)
    other = LessonFactory(module=ModuleFactory(course=CourseFactory()))
    with pytest.raises(DomainError) as error:
        services.lesson_progress_record(enrollment=enrollment, lesson_id=other.pk, percent=10)
    assert error.value.code == "lesson_not_in_course"


def test_locked_lessons_refuse_progress_until_unlocked(learner, course):
    intro, basics = course.test_lessons[:2]
    basics.unlock_conditions = [{"type": "after_lesson", "lesson": str(intro.pk)}]
    basics.save()
    enrollment = services.enrollment_create(user=learner, course=course)
    with pytest.raises(PermissionDeniedError, match="Complete “Intro” first"):
        services.lesson_progress_record(enrollment=enrollment, lesson_id=basics.pk, percent=10)
    services.lesson_progress_record(enrollment=enrollment, lesson_id=intro.pk, percent=100)
    services.lesson_progress_record(enrollment=enrollment, lesson_id=basics.pk, percent=10)


def test_quiz_grading_attempt_limit_and_version(learner, course, settings):
    settings.QUIZ_MAX_ATTEMPTS = 2
    enrollment = services.enrollment_create(user=learner, course=course)
    quiz = course.test_quiz
    failed = services.quiz_attempt_submit(
        enrollment=enrollment, quiz_id=quiz.pk, answers={"q1": "a", "q3": "London"}
    )
    assert (failed.score, failed.max_score, failed.passed) == (0, 6, False)
    passed = services.quiz_attempt_submit(
        enrollment=enrollment, quiz_id=quiz.pk, answers=RIGHT_ANSWERS
    )
    assert (passed.number, passed.percent, passed.passed) == (2, Decimal("100.00"), True)
    assert passed.quiz_version_event is not None
    assert passed.quiz_version_at == quiz.updated_at
    with pytest.raises(ConflictError) as error:
        services.quiz_attempt_submit(enrollment=enrollment, quiz_id=quiz.pk, answers={})
    assert error.value.code == "attempt_limit"
    enrollment.refresh_from_db()
    assert enrollment.average_quiz_score == Decimal("100.00")


def test_answers_to_unknown_questions_are_refused(learner, course):
    enrollment = services.enrollment_create(user=learner, course=course)
    with pytest.raises(DomainError) as error:
        services.quiz_attempt_submit(
            enrollment=enrollment, quiz_id=course.test_quiz.pk, answers={"q9": "x"}
        )
    assert error.value.code == "unknown_questions"


def test_completing_every_lesson_completes_the_course_and_issues_a_certificate(learner, course):
    enrollment = services.enrollment_create(user=learner, course=course)
    for lesson in course.test_lessons[:3]:
        services.lesson_progress_record(enrollment=enrollment, lesson_id=lesson.pk, percent=100)
    # Heartbeats cannot complete a quiz lesson; passing its quiz does.
    services.lesson_progress_record(
        enrollment=enrollment, lesson_id=course.test_lessons[3].pk, percent=100
    )
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.completed_lessons) == ("active", 3)
    assert enrollment.progress_percent == Decimal("75.00")
    services.quiz_attempt_submit(
        enrollment=enrollment, quiz_id=course.test_quiz.pk, answers=RIGHT_ANSWERS
    )
    enrollment.refresh_from_db()
    assert enrollment.status == "completed"
    assert enrollment.progress_percent == 100
    assert enrollment.certificate_issued
    certificate = Certificate.objects.get(enrollment=enrollment)
    assert certificate.course_title == course.title
    events = [e.event_type for e in domain_events(aggregate_id=enrollment.pk)]
    assert events == [
        "enrollment.created",
        "lesson.completed",
        "lesson.completed",
        "lesson.completed",
        "lesson.completed",  # the quiz lesson, by passing its quiz
        "certificate.issued",
        "course.completed",
    ]
    # Another heartbeat on a completed lesson is not a second completion.
    assert [e.version for e in domain_events(aggregate_id=enrollment.pk)] == list(range(1, 8))


def test_reset_starts_a_new_run_and_keeps_the_certificate(learner, course):
    enrollment = services.enrollment_create(user=learner, course=course)
    for lesson in course.test_lessons[:3]:
        services.lesson_progress_record(
            enrollment=enrollment, lesson_id=lesson.pk, percent=100, time_delta_seconds=10
        )
    services.quiz_attempt_submit(
        enrollment=enrollment, quiz_id=course.test_quiz.pk, answers=RIGHT_ANSWERS
    )
    enrollment = services.enrollment_reset(enrollment=enrollment)
    assert (enrollment.run, enrollment.status, enrollment.progress_percent) == (2, "active", 0)
    assert enrollment.study_time_seconds == 30
    assert not LessonProgress.objects.filter(enrollment=enrollment).exists()
    assert Certificate.objects.filter(enrollment=enrollment).exists()
    # A new run has its own attempts.
    attempt = services.quiz_attempt_submit(
        enrollment=enrollment, quiz_id=course.test_quiz.pk, answers={}
    )
    assert (attempt.run, attempt.number) == (2, 1)


def test_completion_consistency_is_enforced_by_the_database(learner, course):
    enrollment = services.enrollment_create(user=learner, course=course)
    statements = [
        "UPDATE progress.enrollment SET status = 'completed' WHERE id = %s",
        "UPDATE progress.enrollment SET status = 'completed', progress_percent = 100 WHERE id = %s",
        "UPDATE progress.enrollment SET progress_percent = 100, completed_at = now() WHERE id = %s",
        "UPDATE progress.enrollment SET certificate_issued = true WHERE id = %s",
        "UPDATE progress.enrollment SET completed_lessons = 99 WHERE id = %s",
        "UPDATE progress.enrollment SET progress_percent = 101 WHERE id = %s",
    ]
    for sql in statements:
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [enrollment.pk])


def test_a_course_with_enrollments_cannot_be_hard_deleted(learner, course):
    services.enrollment_create(user=learner, course=course)
    with (
        pytest.raises(IntegrityError, match="active enrollments"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute('DELETE FROM "content"."course" WHERE id = %s', [course.pk])
