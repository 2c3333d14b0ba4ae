"""Bulk enrollment: a CSV with good and bad rows, run twice (idempotent), JSON lists, who may,
paid courses, the result CSV, a course filling up mid-chunk, the statements of a chunk (pinned:
they do not grow with its rows), the worker as the app role under RLS, and a 10k-row job (run
in-process; its time is printed)."""

import csv
import datetime as dt
import io
import time

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.audit.models import DomainEvent
from apps.content.models import Course
from apps.integrations import tasks
from apps.integrations.models import BulkEnrollmentJob, BulkEnrollmentRow
from apps.integrations.services import bulk
from apps.progress.models import Activity, Enrollment
from apps.progress.services import enrollment_create
from tests.accounts.factories import UserFactory
from tests.conftest import APP_ROLE_PASSWORD
from tests.content.factories import CourseFactory, published

pytestmark = pytest.mark.django_db


def _csv(lines: list[str]) -> SimpleUploadedFile:
    return SimpleUploadedFile("learners.csv", ("\n".join(lines) + "\n").encode(), "text/csv")


def _run(job_id) -> BulkEnrollmentJob:
    """What the worker does (the task body, in-process)."""
    tasks.bulk_enrollment_run(str(job_id))
    return BulkEnrollmentJob.objects.get(pk=job_id)


def _upload(api_client, user, upload, **extra):
    api_client.force_authenticate(user)
    return api_client.post(
        "/api/v1/enrollments/bulk/", {"file": upload, **extra}, format="multipart"
    )


def test_csv_with_good_and_bad_rows_run_twice(api_client, teacher, course):
    learners = UserFactory.create_batch(3)
    other_course = published(CourseFactory())  # not this teacher's
    lines = [
        "email,course",
        f"{learners[0].email},{course.slug}",
        f"{learners[1].email.upper()},{course.pk}",
        f"not-an-email,{course.slug}",
        f"nobody@example.com,{course.slug}",
        f"{learners[2].email},{other_course.slug}",
        f"{learners[2].email},no-such-course",
        f"{learners[0].email},{course.slug}",  # twice in the file
    ]
    response = _upload(api_client, teacher, _csv(lines))
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["status"] == "pending"
    assert body["total_rows"] == 7
    assert response["Location"] == body["url"]

    job = _run(body["id"])
    assert (job.status, job.processed_rows, job.enrolled, job.already_enrolled, job.failed) == (
        "done",
        7,
        2,
        1,
        4,
    )
    rows = api_client.get(body["rows_url"] + "?outcome=error").json()["results"]
    assert [(r["row"], r["code"]) for r in rows] == [
        (3, "invalid_email"),
        (4, "user_not_found"),
        (5, "not_course_manager"),
        (6, "course_not_found"),
    ]
    assert Enrollment.objects.filter(course=course).count() == 2

    # The same file again: nothing new, nothing duplicated, the enrolled are "already enrolled".
    again = _upload(api_client, teacher, _csv(lines)).json()
    job = _run(again["id"])
    assert (job.enrolled, job.already_enrolled, job.failed) == (0, 3, 4)
    assert Enrollment.objects.filter(course=course).count() == 2

    status = api_client.get(again["url"]).json()
    assert status["progress_percent"] == 100
    assert status["processed_rows"] == status["total_rows"] == 7

    result = api_client.get(again["results_csv_url"])
    assert result.status_code == 200
    assert result["Content-Type"] == "text/csv"
    table = list(csv.reader(io.StringIO(b"".join(result.streaming_content).decode())))
    assert table[0] == ["row", "email", "course", "outcome", "code", "message"]
    assert [r[3] for r in table[1:]] == ["already_enrolled"] * 2 + ["error"] * 4 + [
        "already_enrolled"
    ]


def test_json_list_with_a_default_course(api_client, teacher, course):
    learner = UserFactory()
    api_client.force_authenticate(teacher)
    response = api_client.post(
        "/api/v1/enrollments/bulk/",
        {"course": str(course.pk), "rows": [{"email": learner.email}, {"email": ""}]},
        format="json",
    )
    assert response.status_code == 202, response.json()
    job = _run(response.json()["id"])
    assert (job.enrolled, job.failed) == (1, 1)
    assert Enrollment.objects.get(user=learner, course=course).enrollment_type == "free"


def test_a_plain_json_list(api_client, teacher, course):
    learner = UserFactory()
    api_client.force_authenticate(teacher)
    response = api_client.post(
        "/api/v1/enrollments/bulk/", [{"email": learner.email, "course": course.slug}]
    )
    assert response.status_code == 202
    assert _run(response.json()["id"]).enrolled == 1


def test_bad_input_is_a_400(api_client, teacher, course):
    assert _upload(api_client, teacher, _csv(["mail,course", "a@b.c,x"])).status_code == 400
    assert _upload(api_client, teacher, _csv(["email,course"])).status_code == 400
    api_client.force_authenticate(teacher)
    too_many = [{"email": f"u{i}@example.com", "course": "x"} for i in range(10_001)]
    response = api_client.post("/api/v1/enrollments/bulk/", too_many, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "too_many_rows"
    assert not BulkEnrollmentJob.objects.exists()


def test_learners_may_not_bulk_enroll(api_client, course):
    student = UserFactory()
    response = _upload(
        api_client, student, _csv(["email,course", f"{student.email},{course.slug}"])
    )
    assert response.status_code == 403


def test_others_cannot_see_my_job(api_client, teacher, course):
    job = bulk.bulk_enrollment_create(
        owner=teacher, rows=[{"email": "a@example.com", "course": course.slug}], source="json"
    )
    api_client.force_authenticate(UserFactory())
    assert api_client.get(f"/api/v1/enrollments/bulk/{job.pk}/").status_code == 404
    assert api_client.get(f"/api/v1/enrollments/bulk/{job.pk}/rows/").status_code == 404


def test_paid_courses_are_gifts_by_staff_only(api_client, teacher, staff_user):
    paid = published(CourseFactory(instructor=teacher), access_type="paid", price_minor=1000)
    learner = UserFactory()
    rows = [{"email": learner.email, "course": paid.slug}]
    job = bulk.bulk_enrollment_create(owner=teacher, rows=rows, source="json")
    job = _run(job.pk)
    assert job.failed == 1
    assert BulkEnrollmentRow.objects.get(job=job).code == "payment_required"

    job = _run(bulk.bulk_enrollment_create(owner=staff_user, rows=rows, source="json").pk)
    assert job.enrolled == 1
    assert Enrollment.objects.get(user=learner, course=paid).enrollment_type == "gift"


@pytest.mark.django_db(transaction=True)
def test_a_10k_row_job_completes(teacher, course):
    """Committed chunk by chunk, as a worker runs it (not inside one test transaction)."""
    learners = UserFactory.create_batch(100)
    other = [published(CourseFactory(instructor=teacher)) for _ in range(99)]
    # 100 learners x 100 courses = 10,000 distinct enrollments.
    rows = [
        {"email": learner.email, "course": c.slug} for c in [course, *other] for learner in learners
    ]
    job = bulk.bulk_enrollment_create(owner=teacher, rows=rows, source="json")
    started = time.perf_counter()
    job = _run(job.pk)
    elapsed = time.perf_counter() - started
    print(f"\nbulk enrollment: 10,000 rows in {elapsed:.1f} s ({10_000 / elapsed:.0f} rows/s)")
    assert (job.status, job.enrolled, job.failed) == ("done", 10_000, 0)
    assert Enrollment.objects.filter(course__instructor=teacher).count() == 10_000


def test_a_job_whose_worker_died_resumes_with_the_pending_rows(teacher, course):
    learners = UserFactory.create_batch(3)
    rows = [{"email": u.email, "course": course.slug} for u in learners]
    job = bulk.bulk_enrollment_create(owner=teacher, rows=rows, source="json")
    # As if a worker had committed the first row's chunk and died.
    BulkEnrollmentJob.objects.filter(pk=job.pk).update(status="running")
    enrollment_create(user=learners[0], course=course)
    BulkEnrollmentRow.objects.filter(job=job, row_number=1).update(outcome="enrolled")
    BulkEnrollmentJob.objects.filter(pk=job.pk).update(processed_rows=1, enrolled=1)

    job = _run(job.pk)
    assert (job.status, job.processed_rows, job.enrolled, job.already_enrolled) == (
        "done",
        3,
        3,
        0,
    )
    assert Enrollment.objects.filter(course=course).count() == 3


def test_finished_jobs_expire(teacher, course):
    job = bulk.bulk_enrollment_create(
        owner=teacher, rows=[{"email": "a@example.com", "course": course.slug}], source="json"
    )
    job = _run(job.pk)
    assert job.expires_at is not None
    assert bulk.bulk_jobs_expire(now=job.expires_at - dt.timedelta(seconds=1)) == 0
    assert bulk.bulk_jobs_expire(now=job.expires_at) == 1
    assert not BulkEnrollmentRow.objects.exists()


def test_a_full_course_mid_chunk_fills_the_seats_left_and_duplicates_count_once(teacher, course):
    Course.all_objects.filter(pk=course.pk).update(max_enrollments=3)
    learners = UserFactory.create_batch(5)
    enrollment_create(user=learners[0], course=course)
    emails = [u.email for u in learners] + [learners[1].email, "nobody@example.com"]
    rows = [{"email": email, "course": course.slug} for email in emails]
    job = _run(bulk.bulk_enrollment_create(owner=teacher, rows=rows, source="json").pk)
    outcomes = list(
        BulkEnrollmentRow.objects.filter(job=job)
        .order_by("row_number")
        .values_list("outcome", "code")
    )
    assert outcomes == [
        ("already_enrolled", ""),
        ("enrolled", ""),
        ("enrolled", ""),
        ("error", "course_full"),
        ("error", "course_full"),
        ("already_enrolled", ""),  # learners[1] again, in the same chunk
        ("error", "user_not_found"),
    ]
    assert (job.enrolled, job.already_enrolled, job.failed) == (2, 2, 3)
    assert Enrollment.objects.filter(course=course).count() == 3
    enrolled = BulkEnrollmentRow.objects.get(job=job, row_number=2).enrollment_id
    assert DomainEvent.objects.get(aggregate_id=enrolled).event_type == "enrollment.created"


def _chunk_statements(teacher, courses, learners) -> int:
    rows = [{"email": u.email, "course": c.slug} for c in courses for u in learners]
    job = bulk.bulk_enrollment_create(owner=teacher, rows=rows, source="json")
    job.status = "running"
    job.save()
    resolved = bulk._Courses(teacher)
    for c in courses:  # course references resolve once per job, not per chunk
        resolved.resolve(c.slug)
    with CaptureQueriesContext(connection) as queries:
        assert bulk._run_chunk(job, resolved) == len(rows)
    job.refresh_from_db()
    assert job.enrolled == len(rows)
    return len(queries)


def test_a_chunk_costs_the_same_statements_whatever_its_rows(teacher):
    def course():
        return published(CourseFactory(instructor=teacher))

    # The chunk's savepoint (its transaction in a worker) and release, claim, users, existing
    # pairs, row outcomes, job counters: 7; plus enrollment_create_many per course named in the
    # chunk, 8 for a course without capacity or prerequisites (lock the existing, lock the
    # course, prerequisites, lessons, insert returning ids, versions, events, activity).
    assert _chunk_statements(teacher, [course()], UserFactory.create_batch(2)) == 15
    assert _chunk_statements(teacher, [course()], UserFactory.create_batch(200)) == 15
    assert _chunk_statements(teacher, [course(), course()], UserFactory.create_batch(100)) == 23


@pytest.mark.django_db(transaction=True)
def test_the_worker_enrolls_as_the_app_role_under_row_level_security(teacher, course):
    """The task runs in the system context (task_prerun): it sees every seat and writes every
    learner's rows although no user is signed in."""
    Course.all_objects.filter(pk=course.pk).update(max_enrollments=2)
    learners = UserFactory.create_batch(3)
    enrollment_create(user=learners[0], course=course)
    rows = [{"email": u.email, "course": course.slug} for u in learners]
    job = bulk.bulk_enrollment_create(owner=teacher, rows=rows, source="json")
    owner = {key: connection.settings_dict[key] for key in ("USER", "PASSWORD")}
    connection.close()
    connection.settings_dict.update(USER=settings.DATABASE_APP_ROLE, PASSWORD=APP_ROLE_PASSWORD)
    try:
        assert tasks.bulk_enrollment_run.apply(args=[str(job.pk)]).get() == "done"
    finally:
        connection.close()
        connection.settings_dict.update(owner)
    job = BulkEnrollmentJob.objects.get(pk=job.pk)
    assert (job.enrolled, job.already_enrolled, job.failed) == (1, 1, 1)
    assert BulkEnrollmentRow.objects.get(job=job, row_number=3).code == "course_full"
    assert Enrollment.objects.filter(course=course).count() == 2
    assert Activity.objects.filter(course_id=course.pk, activity_type="enrolled").count() == 2
