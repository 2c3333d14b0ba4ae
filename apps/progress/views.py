"""Learner and teacher pages: my learning, course outline and enroll, lesson player, quizzes,
certificates; roster and gradebook (with a streamed CSV)."""

import csv
import io
from html import escape  # what django.utils.html.escape does, without its lazy wrapper
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from apps.content.models import Course, CourseStatus, InteractiveContent, Lesson, Visibility
from apps.content.selectors import course_visible_queryset
from apps.core.exceptions import DomainError
from apps.core.spreadsheet import cell_safe
from apps.progress import selectors, services
from apps.progress.models import EnrollmentStatus
from apps.rbac.selectors import user_has_permission


def _course(request: HttpRequest, slug: str) -> Course:
    # Published public and unlisted courses are open to everyone: no need for the
    # permission-scope query that course_visible_queryset runs for the other cases.
    # The structure version comes along (one LEFT JOIN): the outline's cached structure is used
    # only while it is current (selectors.course_structure).
    version = F("structure__version")
    course = (
        Course.objects.select_related("instructor")
        .annotate(structure_version=version)
        .filter(slug=slug)
        .first()
    )
    if (
        course is not None
        and course.status == CourseStatus.PUBLISHED
        and course.visibility in (Visibility.PUBLIC, Visibility.UNLISTED)
    ):
        return course
    return get_object_or_404(
        course_visible_queryset(user=request.user)
        .select_related("instructor")
        .annotate(structure_version=version),
        slug=slug,
    )


def _syllabus_html(outline: selectors.Outline, *, course: Course, linkable: bool) -> str:
    """The outline's modules and lessons as HTML. Built here, not by a template loop: the
    template engine took most of the time of a 1,000-lesson outline (docs/performance.md).
    Titles come escaped and ids as text from the cached structure."""
    placeholder = str(UUID(int=0))
    before, after = reverse("progress:lesson", args=[course.slug, placeholder]).split(placeholder)
    before, after = escape(before), escape(after)
    parts = []
    for m in outline.modules:
        parts.append(
            f'<section class="module">\n<h3>{escape(m.module.title)}</h3>\n<ol class="lessons">\n'
        )
        for s in m.lessons:
            state = s.state
            title = s.lesson.title_html
            if state == "locked":
                parts.append(
                    f'<li class="lesson lesson-locked" data-testid="lesson-state" '
                    f'data-state="locked">{title} <span class="badge">Locked</span>'
                    f' <small class="help">{escape(" ".join(s.unmet))}</small></li>\n'
                )
                continue
            if linkable:
                title = f'<a href="{before}{s.lesson.id_text}{after}">{title}</a>'
            parts.append(
                f'<li class="lesson lesson-{state}" data-testid="lesson-state" '
                f'data-state="{state}">{title} <span class="badge">'
                f"{_STATE_LABELS[state]}</span></li>\n"
            )
        parts.append("</ol>\n</section>\n")
    return mark_safe("".join(parts))  # noqa: S308 (every value above is escaped)


_STATE_LABELS = {
    "locked": "Locked",
    "available": "Available",
    "in_progress": "Inprogress",
    "done": "Done",
}


@login_required
@require_GET
def my_learning(request: HttpRequest) -> HttpResponse:
    enrollments = selectors.my_enrollments(user=request.user)
    return render(request, "progress/my_learning.html", {"enrollments": enrollments})


@require_GET
def course_outline(request: HttpRequest, slug: str) -> HttpResponse:
    course = _course(request, slug)
    enrollment = (
        selectors.enrollment_for(user=request.user, course=course)
        if request.user.is_authenticated
        else None
    )
    outline = selectors.course_outline(course=course, enrollment=enrollment, detail=False)
    linkable = enrollment is not None and enrollment.status != EnrollmentStatus.DROPPED
    return render(
        request,
        "progress/outline.html",
        {
            "outline": outline,
            "course": course,
            "enrollment": enrollment,
            "syllabus": _syllabus_html(outline, course=course, linkable=linkable),
        },
    )


@login_required
@require_POST
def enroll(request: HttpRequest, slug: str) -> HttpResponse:
    course = _course(request, slug)
    try:
        services.enrollment_create(user=request.user, course=course)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"You are enrolled in “{course.title}”.")
    return redirect("progress:outline", slug=slug)


def _own_enrollment_action(request: HttpRequest, slug: str, service, done: str) -> HttpResponse:
    course = _course(request, slug)
    enrollment = selectors.enrollment_for(user=request.user, course=course)
    if enrollment is None:
        raise Http404
    try:
        service(enrollment=enrollment)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done.format(title=course.title))
    return redirect("progress:outline", slug=slug)


@login_required
@require_POST
def drop(request: HttpRequest, slug: str) -> HttpResponse:
    return _own_enrollment_action(
        request, slug, services.enrollment_drop, "You left “{title}”. Your progress is kept."
    )


@login_required
@require_POST
def reset(request: HttpRequest, slug: str) -> HttpResponse:
    return _own_enrollment_action(
        request, slug, services.enrollment_reset, "Progress reset: the course starts again."
    )


def _learning(request: HttpRequest, slug: str, lesson_id):
    course = _course(request, slug)
    enrollment = selectors.enrollment_for(user=request.user, course=course)
    if enrollment is None or enrollment.status == EnrollmentStatus.DROPPED:
        messages.info(request, "Enroll to open the lessons of this course.")
        return course, None, None, redirect("progress:outline", slug=slug)
    if enrollment.status == EnrollmentStatus.SUSPENDED:
        messages.error(request, "Your access to this course is suspended.")
        return course, None, None, redirect("progress:outline", slug=slug)
    lesson = get_object_or_404(
        Lesson.objects.select_related("module"), pk=lesson_id, module__course=course
    )
    return course, enrollment, lesson, None


@login_required
@require_GET
def lesson_player(request: HttpRequest, slug: str, lesson_id) -> HttpResponse:
    course, enrollment, lesson, early = _learning(request, slug, lesson_id)
    if early:
        return early
    outline = selectors.course_outline(course=course, enrollment=enrollment)
    state = next((s for m in outline.modules for s in m.lessons if s.lesson.pk == lesson.pk), None)
    if state is not None and state.state == "locked":
        messages.error(request, "This lesson is locked: " + " ".join(state.unmet))
        return redirect("progress:outline", slug=slug)
    quiz = InteractiveContent.objects.filter(lesson=lesson, content_type="quiz").first()
    return render(
        request,
        "progress/lesson.html",
        {
            "course": course,
            "enrollment": enrollment,
            "lesson": lesson,
            "state": state,
            "outline": outline,
            "quiz": quiz,
            "active": enrollment.status == EnrollmentStatus.ACTIVE,
        },
    )


def _answers_from(post, quiz: InteractiveContent) -> dict:
    answers = {}
    for question in quiz.questions:
        key = f"q-{question['id']}"
        if question["type"] == "multiple_choice":
            values = post.getlist(key)
            if values:
                answers[question["id"]] = values
        elif question["type"] == "true_false":
            if post.get(key) in ("true", "false"):
                answers[question["id"]] = post[key] == "true"
        elif post.get(key, "").strip():
            answers[question["id"]] = post[key]
    return answers


@login_required
@require_POST
def quiz_submit(request: HttpRequest, slug: str, lesson_id) -> HttpResponse:
    course, enrollment, lesson, early = _learning(request, slug, lesson_id)
    if early:
        return early
    quiz = get_object_or_404(InteractiveContent, lesson=lesson, content_type="quiz")
    try:
        attempt = services.quiz_attempt_submit(
            enrollment=enrollment, quiz_id=quiz.pk, answers=_answers_from(request.POST, quiz)
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("progress:lesson", slug=slug, lesson_id=lesson.pk)
    enrollment.refresh_from_db()
    return render(
        request,
        "progress/quiz_result.html",
        {
            "course": course,
            "lesson": lesson,
            "quiz": quiz,
            "attempt": attempt,
            "enrollment": enrollment,
            "feedback": [(q, attempt.results.get(q["id"], {})) for q in quiz.questions],
        },
    )


@require_GET
def certificate(request: HttpRequest, code: str) -> HttpResponse:
    found = selectors.certificate_by_code(code=code)
    if found is None:
        return render(request, "progress/certificate_invalid.html", {"code": code}, status=404)
    return render(request, "progress/certificate.html", {"certificate": found})


def _teaching(request: HttpRequest, slug: str) -> Course:
    course = get_object_or_404(Course.objects.select_related("category"), slug=slug)
    user = request.user
    if not (
        course.instructor_id == user.pk or user_has_permission(user, "enrollment.view", course)
    ):
        raise Http404
    return course


@login_required
@require_GET
def roster(request: HttpRequest, slug: str) -> HttpResponse:
    course = _teaching(request, slug)
    page = Paginator(selectors.roster(course=course), 50).get_page(request.GET.get("page"))
    return render(request, "progress/roster.html", {"course": course, "page": page})


@login_required
@require_GET
def learner_detail(request: HttpRequest, slug: str, user_id) -> HttpResponse:
    """One learner's outline as their teacher sees it, with quiz attempts."""
    course = _teaching(request, slug)
    enrollment = get_object_or_404(selectors.roster(course=course), user_id=user_id)
    outline = selectors.course_outline(course=course, enrollment=enrollment)
    attempts = enrollment.attempts.select_related("quiz").order_by("-created_at")
    return render(
        request,
        "progress/learner.html",
        {
            "course": course,
            "enrollment": enrollment,
            "outline": outline,
            "attempts": attempts,
        },
    )


@login_required
@require_GET
def gradebook(request: HttpRequest, slug: str) -> HttpResponse:
    course = _teaching(request, slug)
    if request.GET.get("format") == "csv":
        return _gradebook_csv(course)
    page = Paginator(selectors.roster(course=course), 50).get_page(request.GET.get("page"))
    lessons, rows = selectors.gradebook(course=course, enrollments=list(page.object_list))
    return render(
        request,
        "progress/gradebook.html",
        {
            "course": course,
            "page": page,
            "lessons": lessons,
            "rows": [(row.enrollment, _gradebook_cells_html(row.cells)) for row in rows],
        },
    )


def _percent(value: float) -> str:
    """What `{{ value|floatformat:0 }}%` prints (half up), without a template filter call.
    Values are percentages with two decimals (0-100, numeric(5, 2)): adding one half and
    truncating rounds them half up exactly (x.50 is exact in binary)."""
    return f"{int(value + 0.5)}%"


def _gradebook_cells_html(cells: list) -> str:
    """A gradebook row's cells (50 rows x 50 lessons per page: built here, not by a template
    loop, which took most of the page's time at that size). Only numbers: nothing to escape."""
    parts = []
    for cell in cells:
        if cell["quiz"] is not None:
            parts.append(f"<td>{_percent(cell['quiz'])} (quiz)</td>")
        elif cell["progress"] is not None:
            parts.append(f"<td>{_percent(cell['progress'])}</td>")
        else:
            parts.append("<td>&ndash;</td>")
    return mark_safe("".join(parts))  # noqa: S308 (formatted numbers and fixed text only)


def _gradebook_csv(course: Course) -> StreamingHttpResponse:
    """The whole gradebook, streamed in chunks of 2,000 learners (a constant number of
    statements each; selectors.gradebook_export), cells safe to open in a spreadsheet."""

    def lines():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for count, row in enumerate(selectors.gradebook_export(course=course), start=1):
            writer.writerow([cell_safe(cell) for cell in row])
            if count % 500 == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    response = StreamingHttpResponse(lines(), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="gradebook-{course.slug}.csv"'
    return response
