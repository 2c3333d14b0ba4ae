"""Dashboards (staff overview, teacher's course, my stats), engagement analysis (selector, API,
the teacher's learner page) and the admin's refresh page."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.analytics import selectors
from apps.analytics.models import RefreshRun
from apps.progress.models import Activity
from tests.accounts.factories import UserFactory
from tests.analytics.conftest import refresh

pytestmark = pytest.mark.django_db


def test_the_overview_is_for_staff_and_draws_charts_with_tables(world, client, staff_user):
    refresh()
    client.force_login(world["done"])
    assert client.get(reverse("analytics:overview")).status_code == 403
    client.force_login(staff_user)
    assert client.get(reverse("analytics:home")).url == reverse("analytics:overview")
    page = client.get(reverse("analytics:overview")).content.decode()
    for chart in ("trend", "active", "top"):
        assert f'data-testid="chart-{chart}"' in page
        assert f'data-testid="chart-{chart}-table"' in page
    assert "<svg" in page and "<polyline" in page
    assert 'data-testid="total-enrollments">5<' in page
    assert world["course"].title in page
    assert "not refreshed yet" in page  # the test refreshed by SQL, not through a run
    RefreshRun.objects.bulk_create(
        RefreshRun(view=v, outcome="refreshed", rows=1)
        for v in ("enrollment_trends", "user_activity_daily", "course_performance")
    )
    assert "Figures as of" in client.get(reverse("analytics:overview")).content.decode()


def test_the_overview_counts_active_users_from_the_view(world):
    refresh()
    data = selectors.staff_overview(days=30)
    # done and half today (through the services), half 2 days ago; idle and gone enrolled too.
    assert data.active_7 == 4 and data.active_30 == 4
    assert data.active_users[-1] == 4
    assert sum(data.enrollments) == 5 and sum(data.completions) == 1


def test_the_teacher_sees_trend_funnel_hardest_questions_and_learners_at_risk(world, client):
    refresh()
    course = world["course"]
    data = selectors.course_dashboard_views(course=course)
    at_risk = selectors.learners_at_risk(course=course, days=7)
    assert (data.funnel[0].label, data.funnel[0].learners) == ("Enrolled", 3)
    assert [s.learners for s in data.funnel[1:]] == [1, 1]  # half finished no whole module
    assert data.hardest[0].question_id == "q1"
    assert [e.user_id for e in at_risk.learners] == [world["idle"].pk]
    assert at_risk.total == 1
    assert selectors.learners_at_risk(course=course, days=30).learners == []

    client.force_login(world["teacher"])
    page = client.get(reverse("analytics:course", args=[course.slug])).content.decode()
    for chart in ("course-trend", "funnel", "hardest"):
        assert f'data-testid="chart-{chart}-table"' in page
    assert world["idle"].get_full_name() in page
    assert "2 + 2?" in page  # the hardest question's prompt
    assert course.title in client.get(reverse("analytics:teaching")).content.decode()

    client.force_login(world["done"])
    assert client.get(reverse("analytics:course", args=[course.slug])).status_code == 404


def test_my_stats_shows_my_study_time_and_courses(world, client):
    refresh()
    client.force_login(world["half"])
    assert client.get(reverse("analytics:home")).url == reverse("analytics:me")
    page = client.get(reverse("analytics:me")).content.decode()
    assert 'data-testid="chart-minutes-table"' in page
    assert world["course"].title in page
    data = selectors.my_stats(user=world["half"], days=30)
    # Today: 300 s + 60 s of heartbeats; two days ago: a 600 s view. 40 days ago is outside.
    assert data.active_days == 2
    assert data.total_minutes == 6 + 10


def test_engagement_compares_with_the_previous_period(world):
    half, course = world["half"], world["course"]
    now = timezone.now()
    Activity.objects.create(
        user=half,
        activity_type="lesson_view",
        resource_type="lesson",
        resource_id=course.test_lessons[0].pk,
        course_id=course.pk,
        duration_seconds=1200,
        created_at=now - dt.timedelta(days=10),
    )
    result = selectors.engagement(
        user_id=half.pk, course_id=course.pk, start=now - dt.timedelta(days=7), end=now
    )
    metrics = {m.name: m for m in result.metrics}
    # This week: two heartbeats today and the view 2 days ago; the week before: one view.
    assert metrics["lesson_views"].value == 3 and metrics["lesson_views"].previous == 1
    assert metrics["lesson_views"].trend == Decimal("200.0")
    assert metrics["lessons_viewed"].value == 2  # lessons 1 and 2
    assert metrics["study_minutes"].value == Decimal("16.0")  # 300 + 60 + 600 s
    assert metrics["study_minutes"].previous == Decimal("20.0")
    assert metrics["study_minutes"].trend == Decimal("-20.0")
    assert metrics["active_days"].value == 2
    assert metrics["quiz_attempts"].value == 1 and metrics["quiz_attempts"].trend is None
    assert result.most_viewed_lesson == course.test_lessons[0].pk
    with pytest.raises(ValueError):
        selectors.engagement(user_id=half.pk, start=now, end=now)


def test_engagement_api_for_myself_my_learners_and_nobody_else(world, api_client):
    half, course = world["half"], world["course"]
    api_client.force_authenticate(half)
    mine = api_client.get("/api/v1/analytics/engagement/")
    assert mine.status_code == 200
    assert {m["name"] for m in mine.json()["metrics"]} >= {"lesson_views", "study_minutes"}

    api_client.force_authenticate(world["teacher"])
    url = f"/api/v1/analytics/engagement/?user={half.pk}&course={course.pk}"
    taught = api_client.get(url)
    assert taught.status_code == 200
    assert taught.json()["course"] == str(course.pk)
    assert api_client.get(f"/api/v1/analytics/engagement/?user={half.pk}").status_code == 403

    api_client.force_authenticate(UserFactory())
    assert api_client.get(url).status_code == 403


def test_the_learner_page_shows_engagement(world, client):
    client.force_login(world["teacher"])
    page = client.get(
        reverse("progress:learner", args=[world["course"].slug, world["half"].pk])
    ).content.decode()
    assert 'data-testid="engagement"' in page
    assert 'data-metric="lesson_views"' in page


def test_the_admin_lists_views_and_refreshes_now(world, verified_staff_client):
    url = reverse("admin:analytics_refreshrun_changelist")
    page = verified_staff_client.get(url).content.decode()
    assert 'data-testid="analytics-views"' in page and "lesson_statistics" in page
    response = verified_staff_client.post(
        reverse("admin:analytics_refreshrun_refresh", args=["course_performance"])
    )
    assert response.status_code == 302
    run = RefreshRun.objects.get()
    assert (run.view, run.outcome, run.rows) == ("course_performance", "refreshed", 2)
    verified_staff_client.post(
        url, {"action": "refresh_now", "_selected_action": [run.pk]}, follow=True
    )
    assert RefreshRun.objects.filter(view="course_performance").count() == 2
