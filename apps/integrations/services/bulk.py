"""Writes owned by integrations for bulk enrollment: a job is created with its input rows (the
request parses and stores them), then a worker enrolls them chunk by chunk through progress's
enrollment_create_many (enrollment_create's rules, set-based) and records each row's outcome.

Each chunk (1,000 rows) is one transaction: its enrollments, its row outcomes
and the job's counters commit together, so a worker that dies mid-job loses nothing and a rerun
of the task continues with the rows still pending. Chunks are claimed with SKIP LOCKED, so two
runs of one job never process a row twice. Re-uploading the same file is idempotent: learners
already enrolled are reported as "already_enrolled", not as errors, and nothing is duplicated.
"""

import datetime as dt
import uuid

from celery import current_app
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, models, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from apps.content.models import Course
from apps.core.exceptions import DomainError, PermissionDeniedError
from apps.integrations.models import BulkEnrollmentJob, BulkEnrollmentRow, BulkJobStatus, RowOutcome
from apps.progress.models import Enrollment, EnrollmentStatus, EnrollmentType
from apps.progress.services import enrollment_create_many
from apps.rbac.selectors import user_has_permission, user_permission_scopes

RUN_TASK = "integrations.tasks.bulk_enrollment_run"
MAX_ROWS = 10_000
# Rows per transaction. A chunk enrolls set-based (enrollment_create_many per course named in
# it, a constant number of statements, no savepoints), so a chunk costs a few dozen statements
# whatever its size; 1,000 rows keep a transaction's locks and a retry's loss small.
CHUNK = 1000


def _may_bulk_enroll(owner) -> bool:
    return bool(
        owner.is_staff
        or Course.objects.filter(instructor=owner).exists()
        or user_permission_scopes(owner, "enrollment.manage")
    )


@transaction.atomic
def bulk_enrollment_create(
    *, owner, rows: list[dict], source: str, filename: str = "", default_course: str = ""
) -> BulkEnrollmentJob:
    """Store the rows (`email`, `course`: id or slug, `default_course` when a row has none) as a
    pending job and queue it for a worker after commit.

    Raises PermissionDeniedError (the owner manages no course), DomainError (no rows, too many).
    """
    if not _may_bulk_enroll(owner):
        raise PermissionDeniedError("Only staff and the courses' teachers may enroll in bulk.")
    if not rows:
        raise DomainError("The list has no rows.", code="empty", fields={"file": ["No rows."]})
    if len(rows) > MAX_ROWS:
        raise DomainError(
            f"At most {MAX_ROWS} rows per job.",
            code="too_many_rows",
            fields={"file": ["Split it."]},
        )
    job = BulkEnrollmentJob.objects.create(
        owner=owner, source=source, filename=filename[:255], total_rows=len(rows)
    )
    BulkEnrollmentRow.objects.bulk_create(
        [
            BulkEnrollmentRow(
                job=job,
                row_number=number,
                email=str(row.get("email") or "").strip()[:254],
                course_ref=str(row.get("course") or default_course or "").strip()[:200],
            )
            for number, row in enumerate(rows, 1)
        ],
        batch_size=2000,
    )
    transaction.on_commit(lambda: current_app.send_task(RUN_TASK, args=[str(job.pk)]))
    return job


class _Courses:
    """Course references of one run resolved once: the course, or why rows naming it fail."""

    def __init__(self, owner):
        self.owner = owner
        self.cache: dict[str, tuple[Course | None, str, str, str]] = {}

    def resolve(self, ref: str) -> tuple[Course | None, str, str, str]:
        """(course, enrollment type, error code, error message)."""
        if ref not in self.cache:
            self.cache[ref] = self._resolve(ref)
        return self.cache[ref]

    def _resolve(self, ref: str):
        if not ref:
            return None, "", "course_missing", "No course given."
        try:
            lookup = {"pk": uuid.UUID(ref)}
        except ValueError:
            lookup = {"slug": ref}
        course = Course.objects.filter(**lookup).first()
        if course is None:
            return None, "", "course_not_found", f"No such course: {ref}."
        owner = self.owner
        if not (
            owner.is_staff
            or course.instructor_id == owner.pk
            or user_has_permission(owner, "enrollment.manage", course)
        ):
            return None, "", "not_course_manager", "You do not manage this course."
        if course.is_free:
            return course, EnrollmentType.FREE, "", ""
        if owner.is_staff:
            return course, EnrollmentType.GIFT, "", ""
        return (
            None,
            "",
            "payment_required",
            "A paid course: only staff may enroll learners in it without payment (as a gift).",
        )


def _users_by_email(emails: list[str]) -> dict[str, object]:
    users = (
        get_user_model()
        .objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=[e.lower() for e in emails if e])
    )
    return {u.email_lower: u for u in users}


def _enrolled(users: dict, courses: _Courses, rows: list[BulkEnrollmentRow]) -> dict:
    """(user id, course id) -> enrollment id of the chunk's pairs that are enrolled (not
    dropped), in one query."""
    user_ids = {user.pk for user in users.values()}
    course_ids = {
        course.pk for course, *_ in (courses.resolve(row.course_ref) for row in rows) if course
    }
    if not user_ids or not course_ids:
        return {}
    pairs = (
        Enrollment.objects.filter(user_id__in=user_ids, course_id__in=course_ids)
        .exclude(status=EnrollmentStatus.DROPPED)
        .values_list("user_id", "course_id", "pk")
    )
    return {(user_id, course_id): pk for user_id, course_id, pk in pairs}


def _classify(row: BulkEnrollmentRow, users: dict, courses: _Courses, enrolled: dict):
    """Settle what a row's own data decides (bad e-mail, unknown user, course it cannot name,
    an enrollment already there) or return (user, course, enrollment type) to enroll."""
    try:
        validate_email(row.email)
    except ValidationError:
        row.outcome, row.code, row.message = RowOutcome.ERROR, "invalid_email", "Not an e-mail."
        return None
    user = users.get(row.email.lower())
    if user is None:
        row.outcome, row.code = RowOutcome.ERROR, "user_not_found"
        row.message = "No account with this e-mail."
        return None
    course, enrollment_type, code, message = courses.resolve(row.course_ref)
    if course is None:
        row.outcome, row.code, row.message = RowOutcome.ERROR, code, message
        return None
    existing = enrolled.get((user.pk, course.pk))
    if existing is not None:
        row.outcome, row.enrollment_id = RowOutcome.ALREADY_ENROLLED, existing
        return None
    return user, course, enrollment_type


def _enroll(rows: list[tuple[BulkEnrollmentRow, object]], course, enrollment_type) -> None:
    """Enroll the users of one course's rows with one enrollment_create_many (the same checks,
    capacity, events and activity as enrollment_create, set-based) and record each row's
    outcome. A user named twice: the first row gets the outcome, the next ones
    "already_enrolled" once it is enrolled, or the same error (as enrolling again would)."""
    results = enrollment_create_many(
        course=course, users=[user for _row, user in rows], enrollment_type=enrollment_type
    )
    seen = set()
    for row, user in rows:
        result = results[user.pk]
        if result.outcome == "error":
            row.outcome, row.code, row.message = RowOutcome.ERROR, result.code, result.message[:500]
        elif result.outcome == "enrolled" and user.pk not in seen:
            row.outcome, row.enrollment_id = RowOutcome.ENROLLED, result.enrollment_id
        else:
            row.outcome, row.enrollment_id = RowOutcome.ALREADY_ENROLLED, result.enrollment_id
        seen.add(user.pk)


def _run_chunk(job: BulkEnrollmentJob, courses: _Courses) -> int:
    with transaction.atomic():
        rows = list(
            BulkEnrollmentRow.objects.select_for_update(skip_locked=True)
            .filter(job=job, outcome=RowOutcome.PENDING)
            .order_by("row_number")[:CHUNK]
        )
        if not rows:
            return 0
        users = _users_by_email([row.email for row in rows])
        enrolled = _enrolled(users, courses, rows)
        by_course: dict = {}
        for row in rows:
            target = _classify(row, users, courses, enrolled)
            if target is not None:
                user, course, enrollment_type = target
                by_course.setdefault(course.pk, (course, enrollment_type, []))[2].append(
                    (row, user)
                )
        for course, enrollment_type, course_rows in by_course.values():
            _enroll(course_rows, course, enrollment_type)
        now = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE "integrations"."bulk_enrollment_row" r
                SET outcome = u.outcome, code = u.code, message = u.message,
                    enrollment_id = u.enrollment_id, processed_at = %s
                FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::uuid[])
                    AS u(id, outcome, code, message, enrollment_id)
                WHERE r.id = u.id
                """,
                [
                    now,
                    [row.pk for row in rows],
                    [row.outcome for row in rows],
                    [row.code for row in rows],
                    [row.message for row in rows],
                    [str(row.enrollment_id) if row.enrollment_id else None for row in rows],
                ],
            )
        counts = dict.fromkeys(RowOutcome.values, 0)
        for row in rows:
            counts[row.outcome] += 1
        BulkEnrollmentJob.objects.filter(pk=job.pk).update(
            processed_rows=models.F("processed_rows") + len(rows),
            enrolled=models.F("enrolled") + counts[RowOutcome.ENROLLED],
            already_enrolled=models.F("already_enrolled") + counts[RowOutcome.ALREADY_ENROLLED],
            failed=models.F("failed") + counts[RowOutcome.ERROR],
        )
        return len(rows)


def bulk_enrollment_run(*, job_id) -> BulkEnrollmentJob:
    """Enroll a job's pending rows chunk by chunk (each chunk commits: pollers see progress),
    then mark it done. A job already done is left alone; a running one is resumed. Runs
    outside a transaction (the worker). An unexpected error marks the job failed."""
    now = timezone.now()
    BulkEnrollmentJob.objects.filter(pk=job_id, status=BulkJobStatus.PENDING).update(
        status=BulkJobStatus.RUNNING, started_at=now
    )
    job = BulkEnrollmentJob.objects.select_related("owner").get(pk=job_id)
    if job.status != BulkJobStatus.RUNNING:
        return job
    courses = _Courses(job.owner)
    try:
        while _run_chunk(job, courses):
            pass
    except Exception as exc:
        BulkEnrollmentJob.objects.filter(pk=job.pk).update(
            status=BulkJobStatus.FAILED, error=str(exc)[:4000], finished_at=timezone.now()
        )
        raise
    finished = timezone.now()
    BulkEnrollmentJob.objects.filter(
        pk=job.pk, status=BulkJobStatus.RUNNING, processed_rows=models.F("total_rows")
    ).update(
        status=BulkJobStatus.DONE,
        finished_at=finished,
        expires_at=finished + dt.timedelta(days=settings.BULK_JOB_TTL_DAYS),
    )
    job.refresh_from_db()
    return job


def bulk_jobs_expire(*, now: dt.datetime | None = None) -> int:
    """Delete finished jobs (and their row results) past their expiry. Returns how many."""
    now = now or timezone.now()
    _deleted, per_model = BulkEnrollmentJob.objects.filter(expires_at__lte=now).delete()
    return per_model.get(BulkEnrollmentJob._meta.label, 0)
