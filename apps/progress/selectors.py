"""Reads owned by progress: what a learner has done, course outlines, rosters, gradebooks."""

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from html import escape  # django.utils.html.escape without its lazy wrapper
from uuid import UUID

from django.db import connection
from django.db.models import Max, QuerySet
from django.utils import timezone

from apps.content.models import Course, CourseStructure, Lesson, Module
from apps.content.unlock import LearnerProgress, unlock_state
from apps.progress.models import Enrollment, LessonProgress, QuizAttempt


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


@dataclass(frozen=True, slots=True)
class OutlineLesson:
    """The lesson fields an outline shows. Plain objects, not model instances: building a
    1,000-lesson outline from tuples takes a few milliseconds (docs/performance.md).
    `id_text` and `title_html` (the id as text, the title HTML-escaped) are worked out once per
    cached structure, not per request."""

    id: UUID
    title: str
    position: int
    lesson_type: str
    unlock_conditions: tuple  # of condition dicts; shared by the structure cache: read only
    id_text: str = ""
    title_html: str = ""

    @property
    def pk(self) -> UUID:
        return self.id


@dataclass(frozen=True, slots=True)
class OutlineModule:
    id: UUID
    title: str
    position: int

    @property
    def pk(self) -> UUID:
        return self.id


@dataclass(slots=True)
class LessonState:
    lesson: OutlineLesson
    state: str  # locked, available, in_progress, done
    # None when the outline was built without detail (the outline page shows states only)
    percent: float | None
    unmet: tuple[str, ...]
    last_position: dict | None


@dataclass
class ModuleOutline:
    module: OutlineModule
    lessons: list[LessonState]


@dataclass
class Outline:
    course: Course
    enrollment: Enrollment | None
    modules: list[ModuleOutline]
    resume: OutlineLesson | None


@dataclass(frozen=True)
class Structure:
    """A course's modules, each with its lessons, in order; what every learner's outline of the
    course shares (read only: cached per process, see `course_structure`)."""

    modules: list[tuple[OutlineModule, list[OutlineLesson]]]
    titles: dict[UUID, str]  # lesson id -> title, for unlock messages
    needs_scores: bool  # a lesson has a quiz-score condition
    has_conditions: bool  # a lesson has an unlock condition

    def __iter__(self):
        return iter(self.modules)


_STRUCTURES: OrderedDict[tuple[UUID, int], Structure] = OrderedDict()
_STRUCTURES_LOCK = threading.Lock()
_UNREAD = object()
STRUCTURE_CACHE_SIZE = 64  # courses per process; a 1,000-lesson course takes about 0.5 MB


def course_structure(*, course: Course) -> Structure:
    """The course's modules, each with its lessons, in order: from this process's cache while
    the course's structure version (content.course_structure, bumped by triggers on every
    module and lesson write) is the one it was built under, else one query.

    The version is read with the course where the caller annotated `structure_version`
    (the outline page), else by one small query."""
    version = getattr(course, "structure_version", _UNREAD)  # None: the course has no row yet
    if version is _UNREAD:
        version = (
            CourseStructure.objects.filter(course_id=course.pk)
            .values_list("version", flat=True)
            .first()
        )
    key = (course.pk, version or 0)
    with _STRUCTURES_LOCK:
        cached = _STRUCTURES.get(key)
        if cached is not None:
            _STRUCTURES.move_to_end(key)
            return cached
    modules: list[tuple[OutlineModule, list[OutlineLesson]]] = []
    for mid, mtitle, mposition, lid, title, position, kind, conditions in (
        Module.objects.filter(course=course)
        .order_by("position", "lessons__position")
        .values_list(
            "id",
            "title",
            "position",
            "lessons__id",
            "lessons__title",
            "lessons__position",
            "lessons__lesson_type",
            "lessons__unlock_conditions",
        )
    ):
        if not modules or modules[-1][0].id != mid:
            modules.append((OutlineModule(mid, mtitle, mposition), []))
        if lid is not None:
            modules[-1][1].append(
                OutlineLesson(
                    lid, title, position, kind, tuple(conditions or ()), str(lid), escape(title)
                )
            )
    lessons = [lesson for _, lessons in modules for lesson in lessons]
    structure = Structure(
        modules=modules,
        titles={lesson.id: lesson.title for lesson in lessons},
        needs_scores=any(
            c.get("type") == "min_score" for lesson in lessons for c in lesson.unlock_conditions
        ),
        has_conditions=any(lesson.unlock_conditions for lesson in lessons),
    )
    with _STRUCTURES_LOCK:
        _STRUCTURES[key] = structure
        while len(_STRUCTURES) > STRUCTURE_CACHE_SIZE:
            _STRUCTURES.popitem(last=False)
    return structure


# The outline page's progress: which lessons are done, and when each started one was last
# touched (microseconds since the epoch, for the lesson to resume), in one row of three arrays:
# a 1,000-lesson course's rows as tuples of timestamps, decimals and JSON took most of the
# page's time (docs/performance.md). Ids as text: matched against the structure's `id_text`
# (a str hashes once; a UUID hashes in Python at every look-up).
_PROGRESS_STATES_SQL = """
SELECT coalesce(array_agg(lesson_id::text) FILTER (WHERE completed_at IS NOT NULL), '{}'),
       coalesce(array_agg(lesson_id::text) FILTER (WHERE completed_at IS NULL), '{}'),
       coalesce(array_agg((extract(epoch FROM updated_at) * 1000000)::int8)
                FILTER (WHERE completed_at IS NULL), '{}')
FROM "progress"."lesson_progress" WHERE enrollment_id = %s
"""


def course_outline(
    *, course: Course, enrollment: Enrollment | None, detail: bool = True
) -> Outline:
    """The course's modules and lessons with each lesson's state for the learner, and the
    lesson to resume. Whatever the size of the course: the learner's progress rows, the
    structure only when it is not cached (`course_structure`), the best quiz scores only when
    a lesson has a quiz-score condition.

    detail=False (the outline page): states only, each lesson's `percent` and `last_position`
    left None, the progress read as one row of arrays."""
    structure = course_structure(course=course)
    done: frozenset = frozenset()  # lesson ids (text ids without detail)
    touched: dict = {}  # started, not done: lesson id -> when last touched (comparable)
    rows: dict = {}  # detail: lesson id -> (progress_percent, last_position)
    progress = LearnerProgress()
    if enrollment is not None:
        if detail:
            done_ids = []
            for (
                lesson_id,
                percent,
                completed_at,
                position,
                updated_at,
            ) in LessonProgress.objects.filter(enrollment=enrollment).values_list(
                "lesson_id", "progress_percent", "completed_at", "last_position", "updated_at"
            ):
                rows[lesson_id] = (float(percent), position)
                if completed_at is None:
                    touched[lesson_id] = updated_at
                else:
                    done_ids.append(lesson_id)
            done = frozenset(done_ids)
            completed = done
        else:
            with connection.cursor() as cursor:
                cursor.execute(_PROGRESS_STATES_SQL, [enrollment.pk])
                done_ids, started_ids, started_at = cursor.fetchone()
            done = frozenset(done_ids)
            touched = dict(zip(started_ids, started_at, strict=True))
            # unlock conditions name lessons by UUID
            completed = (
                frozenset(UUID(i) for i in done_ids) if structure.has_conditions else frozenset()
            )
        progress = LearnerProgress(
            completed_lesson_ids=completed,
            best_quiz_scores=learner_progress(enrollment=enrollment).best_quiz_scores
            if structure.needs_scores
            else {},
        )
    titles = structure.titles
    now = timezone.now()
    outline = []
    resume = None
    latest = None
    first_open = None
    for module, lessons in structure.modules:
        states = []
        for lesson in lessons:
            key = lesson.id if detail else lesson.id_text
            unmet: tuple[str, ...] = ()
            if lesson.unlock_conditions:
                unmet = unlock_state(
                    lesson.unlock_conditions, progress=progress, titles=titles, now=now
                ).unmet
            if key in done:
                state = "done"
            elif unmet:
                state = "locked"
            elif key in touched:
                state = "in_progress"
                if latest is None or touched[key] > latest:
                    latest, resume = touched[key], lesson
            else:
                state = "available"
            if first_open is None and (state == "available" or state == "in_progress"):
                first_open = lesson
            if detail:
                row = rows.get(key)
                states.append(
                    LessonState(lesson, state, row[0] if row else 0.0, unmet, row[1] if row else {})
                )
            else:
                states.append(LessonState(lesson, state, None, unmet, None))
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


_GRID_PROGRESS_SQL = """
SELECT enrollment_id, lesson_id, progress_percent::float8
FROM "progress"."lesson_progress" WHERE enrollment_id = ANY(%s)
"""
_GRID_BEST_SQL = """
SELECT a.enrollment_id, q.lesson_id, max(a.percent)::float8
FROM "progress"."quiz_attempt" a JOIN "content"."interactive_content" q ON q.id = a.quiz_id
WHERE a.enrollment_id = ANY(%s) GROUP BY 1, 2
"""


def _gradebook_grid(enrollment_ids: list, lesson_ids: list) -> tuple[list[list], list[list]]:
    """(progress, best quiz score): one list per enrollment, one value or None per lesson, in
    the given orders. Two statements whatever the sizes; values as float8 tuples and cells
    filled by position (no model instances, no Decimal, no dict per cell)."""
    width = len(lesson_ids)
    rows = {pk: i for i, pk in enumerate(enrollment_ids)}
    columns = {pk: j for j, pk in enumerate(lesson_ids)}
    progress = [[None] * width for _ in enrollment_ids]
    best = [[None] * width for _ in enrollment_ids]
    with connection.cursor() as cursor:
        for sql, grid in ((_GRID_PROGRESS_SQL, progress), (_GRID_BEST_SQL, best)):
            cursor.execute(sql, [list(enrollment_ids)])
            for enrollment_id, lesson_id, value in cursor.fetchall():
                j = columns.get(lesson_id)  # None: a lesson of another course (moved)
                if j is not None:
                    grid[rows[enrollment_id]][j] = value
    return progress, best


def gradebook(*, course: Course, enrollments: list[Enrollment]) -> tuple[list, list[GradebookRow]]:
    """Columns (lessons, in course order) and one row per given enrollment: each lesson's
    progress, and for quiz lessons the best score. Three queries whatever the sizes."""
    lessons = list(
        Lesson.objects.filter(module__course=course)
        .select_related("module")
        .order_by("module__position", "position")
    )
    progress, best = _gradebook_grid([e.pk for e in enrollments], [lesson.pk for lesson in lessons])
    return lessons, [
        GradebookRow(
            enrollment,
            [{"progress": p, "quiz": q} for p, q in zip(progress[i], best[i], strict=True)],
        )
        for i, enrollment in enumerate(enrollments)
    ]


GRADEBOOK_EXPORT_CHUNK = 2000


def gradebook_export(
    *,
    course: Course,
    chunk: int = GRADEBOOK_EXPORT_CHUNK,
    report: Callable[[int, int], None] | None = None,
) -> Iterator[list]:
    """The whole gradebook as CSV rows: a header (email, name, status, progress %, then the
    lessons in course order), then one row per learner in roster order, each lesson's cell the
    best quiz score for quiz lessons, else the lesson's progress, else empty.

    Built for 20k learners x 50 lessons (docs/performance.md): tuples, not model instances,
    two statements per `chunk` learners (their progress, their best quiz scores:
    `_gradebook_grid`) after two for the lessons and the roster; `report(done, total)` after
    each chunk."""
    lessons = list(
        Lesson.objects.filter(module__course=course)
        .order_by("module__position", "position")
        .values_list("id", "title")
    )
    yield ["email", "name", "status", "progress %", *[title for _, title in lessons]]
    learners = list(
        roster(course=course).values_list(
            "id", "user__email", "user__first_name", "user__last_name", "status", "progress_percent"
        )
    )
    lesson_ids = [lesson_id for lesson_id, _ in lessons]
    for start in range(0, len(learners), chunk):
        part = learners[start : start + chunk]
        progress, best = _gradebook_grid([row[0] for row in part], lesson_ids)
        for (_, email, first, last, status, percent), done, scores in zip(
            part, progress, best, strict=True
        ):
            cells = [
                q if q is not None else ("" if p is None else p)
                for p, q in zip(done, scores, strict=True)
            ]
            yield [email, f"{first} {last}".strip() or email, status, percent, *cells]
        if report is not None:
            report(start + len(part), len(learners))


@dataclass(frozen=True)
class VerifiedCertificate:
    """What the public verification shows of a valid certificate, and nothing more."""

    code: str
    learner_name: str
    course_title: str
    instructor_name: str
    issued_at: datetime


def certificate_by_code(*, code: str) -> VerifiedCertificate | None:
    """The valid (not revoked) certificate with this code, for anyone who has the code.

    Certificates are under row-level security (their learner, teachers and staff only); the
    public check reads through progress.certificate_verify, a SECURITY DEFINER function that
    returns the printed fields of one certificate by its exact code (docs/adr/0017)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT code, learner_name, course_title, instructor_name, issued_at "
            "FROM progress.certificate_verify(%s)",
            [code],
        )
        row = cursor.fetchone()
    return VerifiedCertificate(*row) if row else None
