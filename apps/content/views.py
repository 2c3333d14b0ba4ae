"""Content pages: catalog, course, lesson preview, versions, my courses, lesson planner."""

from __future__ import annotations

import datetime as dt
from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from apps.content import selectors, services
from apps.content.forms import CatalogFilterForm, LessonPlanForm, add_service_errors
from apps.content.unlock import unlock_state
from apps.content.versions import course_version_diff, course_versions
from apps.core.exceptions import DomainError, NotFoundError

CATALOG_PAGE_SIZE = 12


def catalog(request: HttpRequest) -> HttpResponse:
    """Published public courses: search box and filters, best match first."""
    form = CatalogFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    courses = selectors.course_catalog(
        query=filters.get("q", ""),
        category=filters.get("category"),
        level=filters.get("level", ""),
        language=filters.get("language", ""),
        price_type=filters.get("price_type", ""),
    )
    page = Paginator(courses, CATALOG_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "content/catalog.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "searching": bool(filters.get("q")),
        },
    )


def course_page(request: HttpRequest, slug: str) -> HttpResponse:
    """A course: description, syllabus, instructor, prerequisites, enroll placeholder."""
    try:
        course = selectors.course_detail(user=request.user, slug=slug)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    return render(
        request,
        "content/course.html",
        {
            "course": course,
            "can_edit": services.course_can_edit(user=request.user, course=course),
        },
    )


def lesson_page(request: HttpRequest, slug: str, lesson_id) -> HttpResponse:
    """A preview lesson (or any lesson, for the course's editors)."""
    try:
        lesson = selectors.course_lesson_preview(user=request.user, slug=slug, lesson_id=lesson_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    titles = selectors.course_title_index(course=lesson.module.course)
    state = unlock_state(lesson.unlock_conditions, titles=titles)
    return render(
        request,
        "content/lesson.html",
        {"lesson": lesson, "course": lesson.module.course, "unlock": state},
    )


@login_required
def course_versions_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The version list of a course and, with ?from=&to=, what changed between two (editors)."""
    try:
        course = selectors.course_detail(user=request.user, slug=slug)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    if not services.course_can_edit(user=request.user, course=course):
        raise Http404("No such course.")
    versions = course_versions(course=course)
    diff, error = None, None
    if request.GET.get("from") and request.GET.get("to"):
        try:
            diff = course_version_diff(
                course=course,
                from_version=int(request.GET["from"]),
                to_version=int(request.GET["to"]),
            )
        except (ValueError, DomainError) as exc:
            error = getattr(exc, "message", "Give two version numbers.")
    return render(
        request,
        "content/versions.html",
        {"course": course, "versions": versions, "diff": diff, "error": error},
    )


@login_required
def my_courses(request: HttpRequest) -> HttpResponse:
    """The courses the signed-in teacher teaches, in every status."""
    courses = selectors.courses_taught(user=request.user)
    return render(request, "content/my_courses.html", {"courses": courses})


# -- lesson planner -----------------------------------------------------------------------


def _week_param(request: HttpRequest) -> dt.date | None:
    try:
        return services.monday_of(dt.date.fromisoformat(request.GET.get("week", "")))
    except ValueError:
        return None


@login_required
def planner(request: HttpRequest) -> HttpResponse:
    """All the teacher's plans grouped by week, or one week (?week=YYYY-MM-DD) with navigation."""
    week = _week_param(request)
    plans = selectors.lesson_plan_list(owner=request.user, week_of=week)
    weeks = [(monday, list(items)) for monday, items in groupby(plans, key=lambda p: p.week_of)]
    this_week = services.monday_of(timezone.localdate())
    context = {"weeks": weeks, "week": week, "this_week": this_week}
    if week is not None:
        context.update(
            previous_week=week - dt.timedelta(days=7),
            next_week=week + dt.timedelta(days=7),
            week_end=week + dt.timedelta(days=4),
        )
    return render(request, "content/planner.html", context)


def _planner_url() -> str:
    return reverse("content:planner")


def _plan_values(form: LessonPlanForm) -> dict:
    return dict(form.cleaned_data)


@login_required
@require_http_methods(["GET", "POST"])
def plan_create(request: HttpRequest) -> HttpResponse:
    form = LessonPlanForm(request.POST or None, initial={"week_of": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.lesson_plan_create(owner=request.user, **_plan_values(form))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Lesson plan “{plan.title}” saved.")
            return redirect(f"{_planner_url()}?week={plan.week_of:%Y-%m-%d}")
    return render(request, "content/plan_form.html", {"form": form, "plan": None})


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, plan_id) -> HttpResponse:
    try:
        plan = selectors.lesson_plan_get(owner=request.user, plan_id=plan_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    form = LessonPlanForm(request.POST or None, initial=LessonPlanForm.initial_for(plan))
    if request.method == "POST" and form.is_valid():
        try:
            services.lesson_plan_update(actor=request.user, plan=plan, **_plan_values(form))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Lesson plan “{plan.title}” saved.")
            return redirect(f"{_planner_url()}?week={plan.week_of:%Y-%m-%d}")
    return render(request, "content/plan_form.html", {"form": form, "plan": plan})


@login_required
@require_POST
def plan_duplicate(request: HttpRequest, plan_id) -> HttpResponse:
    try:
        plan = selectors.lesson_plan_get(owner=request.user, plan_id=plan_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    copy = services.lesson_plan_duplicate(actor=request.user, plan=plan)
    messages.success(request, f"Copied to the week of {copy.week_of:%Y-%m-%d}.")
    return redirect(f"{_planner_url()}?week={copy.week_of:%Y-%m-%d}")
