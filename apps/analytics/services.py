"""Writes owned by analytics: refreshing its materialized views (each run recorded) and export
jobs (created, run by a worker, expired). Analytics writes nothing else."""

import csv
import datetime as dt
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date

from apps.analytics.models import (
    VIEWS,
    CoursePerformance,
    ExportJob,
    ExportKind,
    ExportStatus,
    RefreshOutcome,
    RefreshRun,
)
from apps.content.models import Course
from apps.core.exceptions import DomainError, NotFoundError, PermissionDeniedError
from apps.core.metrics import MV_REFRESH_SECONDS
from apps.core.spreadsheet import cell_safe
from apps.progress import selectors as progress_selectors
from apps.progress.models import Activity
from apps.rbac.selectors import user_has_permission

EXPORT_CHUNK = 500
EXPORT_TASK = "analytics.tasks.export_run"


def view_refresh(*, view: str) -> RefreshRun:
    """Refresh one materialized view CONCURRENTLY through analytics.refresh_view and record the
    run: 'refreshed' (with its row count), 'skipped' when another refresh of the same view holds
    its advisory lock, or 'failed' with the database's message.

    Raises DomainError for a name that is not one of the views.
    """
    if view not in VIEWS:
        raise DomainError(f"Not an analytics view: {view}.", code="unknown_view")
    started_at = timezone.now()
    clock = time.perf_counter()
    rows, error = None, ""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT outcome, row_total FROM analytics.refresh_view(%s)", [view])
            outcome, rows = cursor.fetchone()
    except DatabaseError as exc:
        outcome, error = RefreshOutcome.FAILED, str(exc)[:4000]
    seconds = time.perf_counter() - clock
    MV_REFRESH_SECONDS.observe(seconds, view=view, outcome=outcome)
    return RefreshRun.objects.create(
        view=view,
        started_at=started_at,
        duration_ms=round(seconds * 1000),
        rows=rows,
        outcome=outcome,
        error=error,
    )


# -- exports ------------------------------------------------------------------------------


def _course_for_export(*, owner, course_id) -> Course:
    course = Course.objects.filter(pk=course_id).first() if course_id else None
    if course is None:
        raise NotFoundError("No such course.", code="course_not_found")
    if not (
        course.instructor_id == owner.pk or user_has_permission(owner, "enrollment.view", course)
    ):
        raise PermissionDeniedError("Only the course's teachers may export its data.")
    return course


def _date(value, field: str) -> str | None:
    if value in (None, ""):
        return None
    parsed = value if isinstance(value, dt.date) else parse_date(str(value))
    if parsed is None:
        raise DomainError("Dates are YYYY-MM-DD.", fields={field: ["Not a date."]})
    return parsed.isoformat()


@transaction.atomic
def export_job_create(*, owner, kind: str, params: dict | None = None) -> ExportJob:
    """Check the owner may export this and queue the job for a worker (sent after commit).

    `params`: `course` (id) for gradebook, roster and activity; `since`/`until` (dates) for
    activity. Course performance covers the owner's courses (every course for staff).
    Raises DomainError (bad kind or params), NotFoundError, PermissionDeniedError.
    """
    params = dict(params or {})
    if kind not in ExportKind.values:
        raise DomainError(f"Unknown export kind: {kind}.", fields={"kind": ["Unknown kind."]})
    clean: dict = {}
    if kind != ExportKind.COURSE_PERFORMANCE:
        course = _course_for_export(owner=owner, course_id=params.get("course"))
        clean["course"] = str(course.pk)
    if kind == ExportKind.ACTIVITY:
        clean["since"] = _date(params.get("since"), "since")
        clean["until"] = _date(params.get("until"), "until")
    job = ExportJob.objects.create(owner=owner, kind=kind, params=clean)
    # By name: tasks.py imports this module.
    transaction.on_commit(lambda: current_app.send_task(EXPORT_TASK, args=[str(job.pk)]))
    return job


def _gradebook(job: ExportJob, report: Callable[[int, int], None]) -> Iterator[list]:
    course = Course.all_objects.get(pk=job.params["course"])
    yield from progress_selectors.gradebook_export(course=course, chunk=EXPORT_CHUNK, report=report)


def _roster(job: ExportJob, report: Callable[[int, int], None]) -> Iterator[list]:
    course = Course.all_objects.get(pk=job.params["course"])
    enrollments = list(progress_selectors.roster(course=course))
    yield [
        "email",
        "name",
        "status",
        "type",
        "run",
        "progress %",
        "completed lessons",
        "total lessons",
        "study time (s)",
        "quiz average %",
        "enrolled at",
        "last accessed at",
        "completed at",
    ]
    for number, e in enumerate(enrollments, 1):
        yield [
            e.user.email,
            e.user.get_full_name(),
            e.status,
            e.enrollment_type,
            e.run,
            e.progress_percent,
            e.completed_lessons,
            e.total_lessons,
            e.study_time_seconds,
            e.average_quiz_score,
            e.created_at.isoformat(),
            e.last_accessed_at.isoformat() if e.last_accessed_at else "",
            e.completed_at.isoformat() if e.completed_at else "",
        ]
        if number % EXPORT_CHUNK == 0 or number == len(enrollments):
            report(number, len(enrollments))


def _course_performance(job: ExportJob, report: Callable[[int, int], None]) -> Iterator[list]:
    rows = CoursePerformance.objects.order_by("title")
    if not job.owner.is_staff:
        rows = rows.filter(instructor_id=job.owner_id)
    rows = list(rows)
    yield [
        "course",
        "slug",
        "status",
        "enrollments",
        "active",
        "completed",
        "dropped",
        "completion rate %",
        "average progress %",
        "average quiz score %",
        "study time (s)",
    ]
    for row in rows:
        yield [
            row.title,
            row.slug,
            row.status,
            row.enrollments,
            row.active,
            row.completed,
            row.dropped,
            row.completion_rate if row.completion_rate is not None else "",
            row.avg_progress,
            row.avg_quiz_score,
            row.study_time_seconds,
        ]
    report(len(rows), len(rows))


def _activity(job: ExportJob, report: Callable[[int, int], None]) -> Iterator[list]:
    rows = Activity.objects.filter(course_id=job.params["course"])
    if job.params.get("since"):
        rows = rows.filter(created_at__date__gte=job.params["since"])
    if job.params.get("until"):
        rows = rows.filter(created_at__date__lte=job.params["until"])
    total = rows.count()
    yield ["at", "user", "email", "activity", "resource", "resource id", "duration (s)"]
    done = 0
    # Keyset pagination on (created_at, id): constant memory whatever the size.
    last = None
    ordered = rows.select_related("user").order_by("created_at", "id")
    while True:
        page = ordered
        if last is not None:
            page = page.filter(created_at__gte=last[0]).exclude(created_at=last[0], id__lte=last[1])
        batch = list(page[:EXPORT_CHUNK])
        if not batch:
            break
        for a in batch:
            yield [
                a.created_at.isoformat(),
                a.user_id,
                a.user.email,
                a.activity_type,
                a.resource_type,
                a.resource_id or "",
                a.duration_seconds if a.duration_seconds is not None else "",
            ]
        done += len(batch)
        last = (batch[-1].created_at, batch[-1].id)
        report(done, total)


WRITERS: dict[str, Callable[[ExportJob, Callable[[int, int], None]], Iterable[list]]] = {
    ExportKind.GRADEBOOK: _gradebook,
    ExportKind.ROSTER: _roster,
    ExportKind.COURSE_PERFORMANCE: _course_performance,
    ExportKind.ACTIVITY: _activity,
}


def export_job_run(*, job_id) -> ExportJob:
    """Write the job's CSV, saving its progress as it goes (each update commits, so pollers see
    it), then store the file and set when it expires. A failure is recorded on the job.
    Runs outside a transaction (the worker); jobs that are not pending are left alone."""
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportStatus.PENDING).update(
        status=ExportStatus.RUNNING, started_at=timezone.now(), progress_percent=0
    )
    job = ExportJob.objects.select_related("owner").get(pk=job_id)
    if not claimed:
        return job

    def report(done: int, total: int) -> None:
        percent = 100 if not total else min(99, done * 100 // total)
        ExportJob.objects.filter(pk=job.pk).update(progress_percent=percent, rows=done)

    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"{job.kind}.csv"
            rows = 0
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                for number, row in enumerate(WRITERS[job.kind](job, report)):
                    writer.writerow([cell_safe(v) for v in row])
                    rows = number
            stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
            with path.open("rb") as handle:
                name = default_storage.save(
                    f"analytics/exports/{job.pk}/{job.kind}-{stamp}.csv", File(handle)
                )
    except Exception as exc:
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.FAILED, error=str(exc)[:4000], finished_at=timezone.now()
        )
        raise
    now = timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.DONE,
        file=name,
        rows=rows,
        progress_percent=100,
        finished_at=now,
        expires_at=now + dt.timedelta(hours=settings.ANALYTICS_EXPORT_TTL_HOURS),
    )
    job.refresh_from_db()
    return job


def exports_expire(*, now: dt.datetime | None = None) -> int:
    """Delete the files of finished exports past their expiry and mark them expired; also
    expire jobs that never finished within the same time. Returns how many jobs expired."""
    now = now or timezone.now()
    ttl = dt.timedelta(hours=settings.ANALYTICS_EXPORT_TTL_HOURS)
    due = ExportJob.objects.filter(status=ExportStatus.DONE, expires_at__lte=now) | (
        ExportJob.objects.filter(
            status__in=(ExportStatus.PENDING, ExportStatus.RUNNING, ExportStatus.FAILED),
            created_at__lte=now - ttl,
        )
    )
    expired = 0
    for job in due:
        if job.file:
            default_storage.delete(job.file.name)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.EXPIRED, file="", expires_at=job.expires_at or now
        )
        expired += 1
    return expired
