"""Export jobs: the CSV a fixture course gives, progress as it goes, the pages and the API,
permissions and expiry."""

import csv
import datetime as dt
import io
import os
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.analytics import services
from apps.analytics.models import ExportJob
from apps.core.exceptions import PermissionDeniedError
from apps.progress.models import Activity
from apps.progress.selectors import gradebook, roster
from tests.accounts.factories import UserFactory
from tests.analytics.conftest import refresh

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def read_csv(job: ExportJob) -> list[list[str]]:
    with job.file.open("rb") as handle:
        return list(csv.reader(io.StringIO(handle.read().decode())))


def test_a_gradebook_export_of_a_course_gives_the_expected_csv_and_reports_progress(
    world, monkeypatch
):
    course = world["course"]
    monkeypatch.setattr(services, "EXPORT_CHUNK", 1)  # one learner per step, to see progress
    job = services.export_job_create(
        owner=world["teacher"], kind="gradebook", params={"course": str(course.pk)}
    )
    assert (job.status, job.progress_percent) == ("pending", 0)
    with CaptureQueriesContext(connection) as queries:
        job = services.export_job_run(job_id=job.pk)
    steps = [
        int(m.group(1))
        for q in queries.captured_queries
        if q["sql"].startswith('UPDATE "analytics"."export_job"')
        and (m := re.search(r'"progress_percent" = (\d+)', q["sql"]))
    ]
    assert steps == [0, 25, 50, 75, 99, 100]  # claimed, four learners, stored
    assert (job.status, job.progress_percent, job.rows) == ("done", 100, 4)
    assert job.expires_at > timezone.now()

    enrollments = list(roster(course=course))
    lessons, rows = gradebook(course=course, enrollments=enrollments)
    expected = [["email", "name", "status", "progress %", *[lesson.title for lesson in lessons]]]
    for row in rows:
        cells = [c["quiz"] if c["quiz"] is not None else c["progress"] for c in row.cells]
        expected.append(
            [
                row.enrollment.user.email,
                row.enrollment.user.get_full_name(),
                row.enrollment.status,
                str(row.enrollment.progress_percent),
                *["" if c is None else str(c) for c in cells],
            ]
        )
    got = read_csv(job)
    assert got == expected
    done = next(r for r in got if r[0] == world["done"].email)
    assert done[2:] == ["completed", "100.00", "100.0", "100.0", "100.0", "100.0"]


def test_roster_activity_and_course_performance_exports(world):
    course, teacher = world["course"], world["teacher"]
    roster_job = services.export_job_run(
        job_id=services.export_job_create(
            owner=teacher, kind="roster", params={"course": course.pk}
        ).pk
    )
    rows = read_csv(roster_job)
    assert rows[0][:3] == ["email", "name", "status"]
    assert sorted(r[2] for r in rows[1:]) == ["active", "active", "completed", "dropped"]

    since = (timezone.now() - dt.timedelta(days=5)).date()
    activity_job = services.export_job_run(
        job_id=services.export_job_create(
            owner=teacher, kind="activity", params={"course": course.pk, "since": since}
        ).pk
    )
    rows = read_csv(activity_job)
    expected = Activity.objects.filter(course_id=course.pk, created_at__date__gte=since).count()
    assert len(rows) - 1 == expected == activity_job.rows
    assert Activity.objects.filter(course_id=course.pk).count() == expected + 1  # 40 days ago

    refresh("course_performance")
    perf = services.export_job_run(
        job_id=services.export_job_create(owner=teacher, kind="course_performance").pk
    )
    rows = read_csv(perf)
    assert {r[1] for r in rows[1:]} == {course.slug, world["other"].slug}
    mine = next(r for r in rows if r[1] == course.slug)
    assert mine[3:8] == ["4", "2", "1", "1", "25.0"]


def test_only_the_course_teachers_may_export_it(world):
    with pytest.raises(PermissionDeniedError):
        services.export_job_create(
            owner=UserFactory(), kind="roster", params={"course": world["course"].pk}
        )


def test_a_spreadsheet_formula_in_a_name_is_neutralised(world):
    world["half"].first_name = "=HYPERLINK(1)"
    world["half"].save()
    job = services.export_job_run(
        job_id=services.export_job_create(
            owner=world["teacher"], kind="roster", params={"course": world["course"].pk}
        ).pk
    )
    names = [r[1] for r in read_csv(job)]
    assert any(n.startswith("'=HYPERLINK(1)") for n in names)


def test_api_starts_a_job_polls_it_and_downloads_the_csv(world, api_client):
    api_client.force_authenticate(world["teacher"])
    started = api_client.post(
        "/api/v1/analytics/exports/", {"kind": "roster", "course": str(world["course"].pk)}
    )
    assert started.status_code == 202, started.content
    job_id = started.json()["id"]
    polled = api_client.get(f"/api/v1/analytics/exports/{job_id}/").json()
    assert (polled["status"], polled["progress_percent"], polled["download_url"]) == (
        "pending",
        0,
        None,
    )
    services.export_job_run(job_id=job_id)  # what the worker does
    polled = api_client.get(f"/api/v1/analytics/exports/{job_id}/").json()
    assert (polled["status"], polled["progress_percent"], polled["rows"]) == ("done", 100, 4)
    download = api_client.get(polled["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv"
    body = b"".join(download.streaming_content).decode()
    assert world["done"].email in body

    api_client.force_authenticate(UserFactory())
    assert api_client.get(f"/api/v1/analytics/exports/{job_id}/").status_code == 404
    refused = api_client.post(
        "/api/v1/analytics/exports/", {"kind": "roster", "course": str(world["course"].pk)}
    )
    assert refused.status_code == 403


def test_the_export_page_shows_a_progress_bar_and_the_status_endpoint_answers(world, client):
    client.force_login(world["teacher"])
    response = client.post(
        reverse("analytics:exports"), {"kind": "gradebook", "course": str(world["course"].pk)}
    )
    job = ExportJob.objects.get()
    assert response.url == reverse("analytics:export", args=[job.pk])
    page = client.get(response.url).content.decode()
    assert 'data-testid="export-progress"' in page and "status.json" in page
    ExportJob.objects.filter(pk=job.pk).update(status="running", progress_percent=40, rows=2)
    status = client.get(reverse("analytics:export_status", args=[job.pk])).json()
    assert (status["status"], status["progress_percent"], status["download_url"]) == (
        "running",
        40,
        None,
    )
    ExportJob.objects.filter(pk=job.pk).update(status="pending", progress_percent=0)
    services.export_job_run(job_id=job.pk)
    status = client.get(reverse("analytics:export_status", args=[job.pk])).json()
    assert status["status"] == "done"
    download = client.get(status["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"email,name,status")


def test_expired_exports_lose_their_file(world, client):
    job = services.export_job_run(
        job_id=services.export_job_create(
            owner=world["teacher"], kind="roster", params={"course": world["course"].pk}
        ).pk
    )
    path = job.file.path
    assert services.exports_expire(now=job.expires_at - dt.timedelta(minutes=1)) == 0
    assert services.exports_expire(now=job.expires_at + dt.timedelta(minutes=1)) == 1
    job.refresh_from_db()
    assert (job.status, job.file.name) == ("expired", "")
    assert not os.path.exists(path)
    client.force_login(world["teacher"])
    assert client.get(reverse("analytics:export_download", args=[job.pk])).status_code == 404
