"""Demo learning: the demo student in a few courses at different stages (one completed with a
certificate) and some months of activity history."""

import datetime as dt

from django.db import connection
from django.utils import timezone

from apps.content.models import Course, InteractiveContent, Lesson
from apps.progress.models import Activity, Enrollment
from apps.progress.services import (
    enrollment_create,
    lesson_progress_record,
    quiz_attempt_submit,
)

HISTORY_MONTHS = 6


def _right_answers(quiz: InteractiveContent) -> dict:
    answers = {}
    for question in quiz.questions:
        kind = question["type"]
        if kind == "single_choice":
            answers[question["id"]] = next(c["id"] for c in question["choices"] if c.get("correct"))
        elif kind == "multiple_choice":
            answers[question["id"]] = [c["id"] for c in question["choices"] if c.get("correct")]
        elif kind == "true_false":
            answers[question["id"]] = question["answer"]
        else:
            answers[question["id"]] = question["accepted_answers"][0]
    return answers


def _study(enrollment: Enrollment, share: float) -> None:
    """Work through the first `share` of the course's lessons, in order, passing quizzes."""
    lessons = list(
        Lesson.objects.filter(module__course=enrollment.course).order_by(
            "module__position", "position"
        )
    )
    quizzes = {
        q.lesson_id: q
        for q in InteractiveContent.objects.filter(lesson__in=lessons, content_type="quiz")
    }
    for lesson in lessons[: round(len(lessons) * share)]:
        if lesson.pk in quizzes:
            quiz_attempt_submit(
                enrollment=enrollment,
                quiz_id=quizzes[lesson.pk].pk,
                answers=_right_answers(quizzes[lesson.pk]),
            )
        else:
            lesson_progress_record(
                enrollment=enrollment,
                lesson_id=lesson.pk,
                percent=100,
                time_delta_seconds=420,
                position={"scroll": 100},
            )


def demo_learning_seed(*, student) -> int:
    """Enroll the student in three free courses (done, half-way, just started) unless they are
    already enrolled in one of them; add past activity once. Returns rows created."""
    courses = list(
        Course.objects.filter(
            status="published", access_type="free", visibility="public", prerequisites__isnull=True
        ).order_by("slug")[:3]
    )
    if Enrollment.objects.filter(user=student, course__in=courses).exists():
        return 0
    for course, share in zip(courses, (1.0, 0.5, 0.1), strict=False):
        _study(enrollment_create(user=student, course=course), share)
    _past_activity(student=student, courses=courses)
    return len(courses)


def _past_activity(*, student, courses) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT public.lyceum_ensure_monthly_partitions('progress.activity'::regclass, 0, %s)",
            [HISTORY_MONTHS],
        )
    now = timezone.now()
    rows = []
    for day in range(1, HISTORY_MONTHS * 30, 3):
        course = courses[day % len(courses)] if courses else None
        rows.append(
            Activity(
                user=student,
                activity_type="lesson_view",
                resource_type="course",
                resource_id=course.pk if course else None,
                course_id=course.pk if course else None,
                created_at=now - dt.timedelta(days=day, hours=day % 7),
                duration_seconds=600,
                data={"demo": True},
            )
        )
    Activity.objects.bulk_create(rows)
