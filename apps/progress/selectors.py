"""Reads owned by progress: what a learner has done, course outlines, rosters, gradebooks."""

from dataclasses import dataclass
from uuid import UUID

from django.db.models import Max, QuerySet

from apps.content.models import Course, Lesson, Module
from apps.content.unlock import LearnerProgress, unlock_state
from apps.progress.models import Certificate, Enrollment, LessonProgress, QuizAttempt


def learner_progress(*, enrollment: Enrollment) -> LearnerProgress:
    """Completed lessons and best quiz scores of the enrollment's current run (two queries)."""
    completed = frozenset(
        LessonProgress.objects.filter(
            enrollment=enrollment, completed_at__isnull=False
        ).values_list("lesson_id", flat=True)
    )
    best = dict(
        QuizAttempt.objects.filter(enrollment=enrollment, run=enrollment.run)
        .values("quiz")
        .annotate(best=Max("percent"))
        .values_list("quiz", "best")
    )
    return LearnerProgress(
        completed_lesson_ids=completed, best_quiz_scores={k: float(v) for k, v in best.items()}
    )


def enrollment_for(*, user, course: Course) -> Enrollment | None:
    return Enrollment.objects.filter(user=user, course=course).first()


def my_enrollments(*, user) -> QuerySet[Enrollment]:
    """The user's enrollments with their courses, most recently used first (one query)."""
    return (
        Enrollment.objects.filter(user=user)
        .select_related("course", "course__instructor", "certificate")
        .order_by("-last_accessed_at", "-created_at")
    )


@dataclass
class LessonState:
    lesson: Lesson
    state: str  # locked, available, in_progress, done
    percent: float
    unmet: tuple[str, ...]
    last_position: dict


@dataclass
class ModuleOutline:
    module: Module
    lessons: list[LessonState]


@dataclass
class Outline:
    course: Course
    enrollment: Enrollment | None
    modules: list[ModuleOutline]
    resume: Lesson | None


def course_outline(*, course: Course, enrollment: Enrollment | None) -> Outline:
    """The course's modules and lessons with each lesson's state for the learner, and the
    lesson to resume. A constant number of queries whatever the size of the course."""
    modules = list(
        Module.objects.filter(course=course).order_by("position").prefetch_related("lessons")
    )
    rows = {}
    progress = LearnerProgress()
    if enrollment is not None:
        rows = {
            row.lesson_id: row
            for row in LessonProgress.objects.filter(enrollment=enrollment).only(
                "lesson_id", "progress_percent", "completed_at", "last_position", "updated_at"
            )
        }
        progress = LearnerProgress(
            completed_lesson_ids=frozenset(k for k, r in rows.items() if r.completed_at),
            best_quiz_scores=learner_progress(enrollment=enrollment).best_quiz_scores
            if any(lesson.unlock_conditions for m in modules for lesson in m.lessons.all())
            else {},
        )
    titles: dict[UUID, str] = {
        lesson.pk: lesson.title for m in modules for lesson in m.lessons.all()
    }
    outline = []
    resume = None
    latest = None
    first_open = None
    for module in modules:
        states = []
        for lesson in sorted(module.lessons.all(), key=lambda item: item.position):
            row = rows.get(lesson.pk)
            unlocked = unlock_state(lesson.unlock_conditions, progress=progress, titles=titles)
            if row is not None and row.completed_at:
                state = "done"
            elif not unlocked.unlocked:
                state = "locked"
            elif row is not None:
                state = "in_progress"
            else:
                state = "available"
            if state == "in_progress" and (latest is None or row.updated_at > latest.updated_at):
                latest, resume = row, lesson
            if first_open is None and state in ("available", "in_progress"):
                first_open = lesson
            states.append(
                LessonState(
                    lesson,
                    state,
                    float(row.progress_percent) if row else 0.0,
                    unlocked.unmet,
                    row.last_position if row else {},
                )
            )
        outline.append(ModuleOutline(module, states))
    return Outline(course, enrollment, outline, resume or first_open)


def roster(*, course: Course) -> QuerySet[Enrollment]:
    """Everyone enrolled in `course` with their progress (one query)."""
    return (
        Enrollment.objects.filter(course=course)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__email")
    )


@dataclass
class GradebookRow:
    enrollment: Enrollment
    cells: list  # per column: lesson percent (float) or best quiz percent (float) or None


def gradebook(*, course: Course, enrollments: list[Enrollment]) -> tuple[list, list[GradebookRow]]:
    """Columns (lessons, in course order) and one row per given enrollment: each lesson's
    progress, and for quiz lessons the best score. Three queries whatever the sizes."""
    lessons = list(
        Lesson.objects.filter(module__course=course)
        .select_related("module")
        .order_by("module__position", "position")
    )
    ids = [e.pk for e in enrollments]
    progress = {
        (row.enrollment_id, row.lesson_id): float(row.progress_percent)
        for row in LessonProgress.objects.filter(enrollment_id__in=ids).only(
            "enrollment_id", "lesson_id", "progress_percent"
        )
    }
    best = {
        (row["enrollment"], row["quiz__lesson"]): float(row["best"])
        for row in QuizAttempt.objects.filter(enrollment_id__in=ids)
        .values("enrollment", "quiz__lesson")
        .annotate(best=Max("percent"))
    }
    rows = []
    for enrollment in enrollments:
        cells = []
        for lesson in lessons:
            key = (enrollment.pk, lesson.pk)
            cells.append({"progress": progress.get(key), "quiz": best.get(key)})
        rows.append(GradebookRow(enrollment, cells))
    return lessons, rows


def certificate_by_code(*, code: str) -> Certificate | None:
    return (
        Certificate.objects.select_related("enrollment")
        .filter(code=code.strip().upper(), revoked_at__isnull=True)
        .first()
    )
