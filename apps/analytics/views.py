"""Dashboards (staff overview, teacher's courses, a course, my stats) and export pages."""

import hashlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_GET, require_http_methods

from apps.analytics import charts, selectors, services
from apps.analytics.models import ExportJob, ExportKind, ExportStatus
from apps.content.models import Course
from apps.core.db.router import use_replica
from apps.core.exceptions import DomainError
from apps.core.uploads import attachment_response


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return redirect("analytics:overview" if request.user.is_staff else "analytics:me")


@login_required
@require_GET
@use_replica()  # a report: served by the read replica when there is one (ADR 0015)
def overview(request: HttpRequest) -> HttpResponse:
    if not request.user.is_staff:
        raise PermissionDenied
    data = selectors.staff_overview(days=30)
    trend = charts.line_chart(
        title="Enrollments and completions per day (last 30 days)",
        slug="trend",
        labels=data.days,
        series={"Enrollments": data.enrollments, "Completions": data.completions},
    )
    active = charts.line_chart(
        title="Active users per day (last 30 days)",
        slug="active",
        labels=data.days,
        series={"Active users": data.active_users},
    )
    top = charts.bar_chart(
        title="Top courses by enrollments",
        slug="top",
        labels=[c.title for c in data.top_courses],
        values=[c.enrollments for c in data.top_courses],
        header="Enrollments",
    )
    return render(
        request,
        "analytics/overview.html",
        {
            "data": data,
            "charts": [trend, active, top],
            "as_of": selectors.oldest(data.freshness),
            "freshness": data.freshness,
        },
    )


@login_required
@require_GET
@use_replica()  # a report: served by the read replica when there is one (ADR 0015)
def teaching(request: HttpRequest) -> HttpResponse:
    rows = list(selectors.courses_taught(user=request.user))
    freshness = selectors.views_freshness(views=("course_performance",))
    return render(
        request,
        "analytics/teaching.html",
        {"rows": rows, "freshness": freshness, "as_of": selectors.oldest(freshness)},
    )


def _taught_course(request: HttpRequest, slug: str) -> Course:
    course = get_object_or_404(Course.objects.select_related("instructor"), slug=slug)
    if not selectors.can_teach(user=request.user, course=course):
        raise Http404
    return course


def _at_risk_days(request: HttpRequest) -> int:
    try:
        days = int(request.GET.get("days", settings.ANALYTICS_AT_RISK_DAYS))
    except ValueError:
        days = settings.ANALYTICS_AT_RISK_DAYS
    return min(max(days, 1), 365)


def _page(request: HttpRequest, name: str) -> int:
    try:
        return max(int(request.GET.get(name, 1)), 1)
    except ValueError:
        return 1


VIEWS_HTML_SECONDS = 900  # the views are refreshed every 15 minutes at most


def _course_views_html(course: Course, freshness: dict) -> str:
    """The summary and charts of a course dashboard (everything from the views), rendered. They
    change only when a view is refreshed, so they are cached under the course, the language
    and the time of each view's last successful refresh (recorded after the refresh commits:
    a key never names data older than itself). Not cached before every view was refreshed.
    At full scale this is most of the page's work (docs/performance.md)."""
    key = None
    if all(freshness.values()):
        stamp = ",".join(f"{v}={at.isoformat()}" for v, at in sorted(freshness.items()))
        stamp = hashlib.sha256(f"{translation.get_language()}|{stamp}".encode()).hexdigest()
        key = f"analytics:course-views:{course.pk}:{stamp}"
        found = cache.get(key)
        if found is not None:
            return found
    data = selectors.course_dashboard_views(course=course)
    trend = charts.line_chart(
        title="Enrollments and completions, cumulative",
        slug="course-trend",
        labels=[row.day for row in data.trend],
        series={
            "Enrollments": [row.cumulative_enrollments for row in data.trend],
            "Completions": [row.cumulative_completions for row in data.trend],
        },
    )
    funnel = charts.bar_chart(
        title="Completion funnel by module",
        slug="funnel",
        labels=[step.label for step in data.funnel],
        values=[step.learners for step in data.funnel],
        header="Learners",
    )
    hardest = charts.bar_chart(
        title="Hardest quiz questions (share answered wrong)",
        slug="hardest",
        labels=[q.prompt or q.question_id for q in data.hardest],
        values=[q.difficulty for q in data.hardest],
        unit=" %",
        header="Answered wrong",
    )
    html = render_to_string(
        "analytics/_course_views.html",
        {"p": data.performance, "charts": [trend, funnel, hardest]},
    )
    if key:
        cache.set(key, html, VIEWS_HTML_SECONDS)
    return html


@login_required
@require_GET
@use_replica()
def course(request: HttpRequest, slug: str) -> HttpResponse:
    course = _taught_course(request, slug)
    # Freshness first: cached figures are then never older than what the key says.
    freshness = selectors.views_freshness(views=selectors.COURSE_DASHBOARD_VIEWS)
    views_html = _course_views_html(course, freshness)
    days = _at_risk_days(request)
    return render(
        request,
        "analytics/course.html",
        {
            "course": course,
            "views_html": views_html,
            "at_risk": selectors.learners_at_risk(
                course=course, days=days, page=_page(request, "at_risk_page")
            ),
            "at_risk_days": days,
            "as_of": selectors.oldest(freshness),
            "freshness": freshness,
        },
    )


@login_required
@require_GET
@use_replica()  # a report: served by the read replica when there is one (ADR 0015)
def me(request: HttpRequest) -> HttpResponse:
    data = selectors.my_stats(user=request.user, days=30)
    activity = charts.line_chart(
        title="My study time per day (minutes, last 30 days)",
        slug="minutes",
        labels=data.days,
        series={"Minutes": data.minutes},
    )
    return render(
        request,
        "analytics/me.html",
        {
            "data": data,
            "charts": [activity],
            "as_of": selectors.oldest(data.freshness),
            "freshness": data.freshness,
        },
    )


# -- exports ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def exports(request: HttpRequest) -> HttpResponse:
    """My export jobs; POST starts one (kind, course, since, until)."""
    if request.method == "POST":
        params = {k: request.POST.get(k) for k in ("course", "since", "until")}
        try:
            job = services.export_job_create(
                owner=request.user, kind=request.POST.get("kind", ""), params=params
            )
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("analytics:exports")
        return redirect("analytics:export", job_id=job.pk)
    return render(
        request,
        "analytics/exports.html",
        {
            "jobs": selectors.my_exports(owner=request.user)[:50],
            "kinds": ExportKind.choices,
            "courses": Course.objects.filter(
                pk__in=selectors.courses_taught(user=request.user).values("course_id")
            ).order_by("title"),
        },
    )


def _own_job(request: HttpRequest, job_id) -> ExportJob:
    return get_object_or_404(ExportJob, pk=job_id, owner=request.user)


def job_status(job: ExportJob) -> dict:
    done = job.status == ExportStatus.DONE and bool(job.file)
    return {
        "id": str(job.pk),
        "kind": job.kind,
        "status": job.status,
        "progress_percent": job.progress_percent,
        "rows": job.rows,
        "error": job.error,
        "expires_at": job.expires_at.isoformat() if job.expires_at else None,
        "download_url": reverse("analytics:export_download", args=[job.pk]) if done else None,
    }


@login_required
@require_GET
def export(request: HttpRequest, job_id) -> HttpResponse:
    job = _own_job(request, job_id)
    return render(request, "analytics/export.html", {"job": job, "status": job_status(job)})


@login_required
@require_GET
def export_status(request: HttpRequest, job_id) -> JsonResponse:
    return JsonResponse(job_status(_own_job(request, job_id)))


@login_required
@require_GET
def export_download(request: HttpRequest, job_id) -> FileResponse:
    job = _own_job(request, job_id)
    if job.status != ExportStatus.DONE or not job.file:
        raise Http404
    return attachment_response(
        job.file.open("rb"), filename=job.file.name.rsplit("/", 1)[-1], content_type="text/csv"
    )
