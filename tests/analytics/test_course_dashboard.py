"""The teacher's course dashboard at scale (docs/performance.md): the module funnel comes from
the module_completion view (not the course's lesson progress), learners at risk come a page at
a time with their total, and the page runs a fixed number of queries however many learners the
course has."""

import datetime as dt
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from apps.analytics import charts, selectors
from apps.analytics.models import VIEWS, ModuleCompletion
from apps.progress.models import Enrollment, LessonProgress
from apps.progress.services import enrollment_create, enrollment_drop, lesson_progress_record
from tests.accounts.factories import UserFactory
from tests.analytics.conftest import connect, refresh
from tests.content.factories import CourseFactory, ModuleFactory, published

pytestmark = pytest.mark.django_db

# Session, user, preferences, the course; performance, trend, funnel, hardest questions (views);
# learners at risk with their total, their users (live); freshness of the views; and the audit
# context pghistory sets around the request's statements (twice).
DASHBOARD_QUERIES = 13


def _idle(course, *, days_ago: int, last_active_days_ago: int | None, name: str) -> Enrollment:
    enrollment = enrollment_create(user=UserFactory(first_name=name), course=course)
    now = timezone.now()
    Enrollment.objects.filter(pk=enrollment.pk).update(
        created_at=now - dt.timedelta(days=days_ago),
        last_accessed_at=(
            None if last_active_days_ago is None else now - dt.timedelta(days=last_active_days_ago)
        ),
    )
    return enrollment


def test_the_module_view_counts_learners_who_completed_every_lesson(world):
    course = world["course"]
    refresh("module_completion")
    rows = {row.position: row for row in ModuleCompletion.objects.filter(course_id=course.pk)}
    first, second = rows[1], rows[2]
    assert (first.lessons, first.learners) == (2, 1)  # done; half finished one lesson of two
    assert (second.lessons, second.learners) == (2, 1)
    assert first.title == course.modules.get(position=1).title

    # half completes the first module: counted after the next refresh, not before.
    half = world["enrollments"]["half"]
    lesson = course.test_lessons[1]
    lesson_progress_record(enrollment=half, lesson_id=lesson.pk, percent=100, time_delta_seconds=5)
    assert ModuleCompletion.objects.get(module_id=first.module_id).learners == 1
    refresh("module_completion")
    assert ModuleCompletion.objects.get(module_id=first.module_id).learners == 2
    # A learner who drops out leaves the funnel.
    enrollment_drop(enrollment=half)
    refresh("module_completion")
    assert ModuleCompletion.objects.get(module_id=first.module_id).learners == 1
    assert ModuleCompletion.objects.get(module_id=second.module_id).learners == 1


def test_the_module_view_matches_the_live_count_and_keeps_empty_modules(world):
    course = world["course"]
    empty = ModuleFactory(course=course, position=3)
    refresh("module_completion")
    live = {}
    for module in course.modules.all():
        size = module.lessons.count()
        learners = 0
        for enrollment in Enrollment.objects.filter(course=course).exclude(status="dropped"):
            done = LessonProgress.objects.filter(
                enrollment=enrollment, lesson__module=module, completed_at__isnull=False
            ).count()
            learners += bool(size) and done >= size
        live[module.pk] = (size, learners)
    view = {
        row.module_id: (row.lessons, row.learners)
        for row in ModuleCompletion.objects.filter(course_id=course.pk)
    }
    assert view == live
    assert view[empty.pk] == (0, 0)


def test_the_funnel_starts_with_learners_not_dropped_and_follows_module_order(world):
    refresh("course_performance", "module_completion")
    course = world["course"]
    performance = selectors.CoursePerformance.objects.get(course_id=course.pk)
    funnel = selectors.module_funnel(course=course, performance=performance)
    titles = [f"{m.position}. {m.title}" for m in course.modules.order_by("position")]
    assert [(s.label, s.learners) for s in funnel] == [
        ("Enrolled", 3),
        (titles[0], 1),
        (titles[1], 1),
    ]
    # A course the views do not know yet (created after the last refresh): nobody, no modules.
    other = published(CourseFactory(instructor=course.instructor))
    assert [
        (s.label, s.learners) for s in selectors.module_funnel(course=other, performance=None)
    ] == [("Enrolled", 0)]


def test_learners_at_risk_come_longest_idle_first_a_page_at_a_time(course):
    never = _idle(course, days_ago=30, last_active_days_ago=None, name="Never")
    old = _idle(course, days_ago=60, last_active_days_ago=20, name="Old")
    recent = _idle(course, days_ago=60, last_active_days_ago=9, name="Recent")
    _idle(course, days_ago=60, last_active_days_ago=1, name="Active")  # not at risk
    dropped = _idle(course, days_ago=60, last_active_days_ago=50, name="Dropped")
    enrollment_drop(enrollment=dropped)
    Enrollment.objects.filter(pk=dropped.pk).update(last_accessed_at=dropped.last_accessed_at)

    first = selectors.learners_at_risk(course=course, days=7, page=1, per_page=2)
    assert [e.pk for e in first.learners] == [never.pk, old.pk]  # idle 30 days, then 20
    assert (first.total, first.pages, first.first, first.last) == (3, 2, 1, 2)
    assert first.learners[0].user.first_name == "Never"
    # Names only: the encrypted columns are neither loaded nor decrypted for the list.
    assert {"phone", "date_of_birth"} <= first.learners[0].user.get_deferred_fields()
    second = selectors.learners_at_risk(course=course, days=7, page=2, per_page=2)
    assert [e.pk for e in second.learners] == [recent.pk]
    assert (second.total, second.first, second.last) == (3, 3, 3)
    beyond = selectors.learners_at_risk(course=course, days=7, page=5, per_page=2)
    assert (beyond.learners, beyond.total) == ([], 3)
    assert selectors.learners_at_risk(course=course, days=25, page=1).total == 1
    nobody = selectors.learners_at_risk(course=course, days=90)
    assert (nobody.learners, nobody.total, nobody.pages) == ([], 0, 1)


def test_the_dashboard_pages_learners_at_risk_in_a_fixed_number_of_queries(
    world, client, django_assert_num_queries
):
    course = world["course"]
    for n in range(3):
        _idle(course, days_ago=40 + n, last_active_days_ago=None, name=f"Idle{n}")
    refresh()
    client.force_login(world["teacher"])
    url = reverse("analytics:course", args=[course.slug])
    page = client.get(url).content.decode()
    assert 'data-testid="at-risk-count">4 active learners idle for 7 days or more' in page
    assert "Idle2" in page and world["idle"].get_full_name() in page

    with django_assert_num_queries(DASHBOARD_QUERIES):
        response = client.get(url)
    assert response.status_code == 200
    for n in range(20):  # more learners, more at risk: the same queries
        _idle(course, days_ago=10 + n, last_active_days_ago=8, name=f"More{n}")
    with django_assert_num_queries(DASHBOARD_QUERIES):
        page = client.get(url, {"days": 7, "at_risk_page": 1}).content.decode()
    assert "24 active learners idle" in page
    assert 'data-testid="chart-funnel-table"' in page


def test_the_dashboard_links_the_pages_of_learners_at_risk(course, client):
    for n in range(selectors.AT_RISK_PAGE + 1):
        _idle(course, days_ago=100 - n, last_active_days_ago=None, name=f"L{n:02d}")
    client.force_login(course.instructor)
    url = reverse("analytics:course", args=[course.slug])
    first = client.get(url).content.decode()
    assert "L00" in first and f"L{selectors.AT_RISK_PAGE:02d}" not in first
    assert f"showing 1\N{EN DASH}{selectors.AT_RISK_PAGE}" in first
    assert "at_risk_page=2#at-risk" in first
    second = client.get(url, {"days": 7, "at_risk_page": 2}).content.decode()
    assert f"L{selectors.AT_RISK_PAGE:02d}" in second and "L00" not in second
    assert "at_risk_page=1#at-risk" in second
    assert client.get(url, {"at_risk_page": "x"}).status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("view", list(VIEWS))
def test_a_view_is_read_while_its_concurrent_refresh_is_open(view):
    """Every view, not only course_performance (test_refresh has the plain-REFRESH control):
    while a refresh's transaction holds the view's EXCLUSIVE lock, a reader that waits at most
    1 s for a lock answers at once. (No rows are added: a flush after a transactional test
    empties the tables, not the views, and other tests expect views in step with the tables.)"""
    refresher, reader = connect(), connect(autocommit=True)
    try:
        reader.execute("SET lock_timeout = '1s'")
        outcome = refresher.execute(
            "SELECT outcome FROM analytics.refresh_view(%s)", [view]
        ).fetchone()[0]
        assert outcome == "refreshed"
        locks = reader.execute(
            "SELECT mode FROM pg_locks WHERE pid = %s AND relation = %s::regclass",
            [refresher.info.backend_pid, f"analytics.{view}"],
        ).fetchall()
        assert ("ExclusiveLock",) in locks  # the refresh still holds its lock
        reader.execute(f"SELECT count(*) FROM analytics.{view}").fetchone()
        refresher.commit()
    finally:
        refresher.close()
        reader.close()


def test_a_chart_table_is_what_the_template_loop_rendered():
    """charts.Chart.table_body replaces a template loop (10 ms for a year of days): same HTML,
    text escaped, numbers localized."""
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=n) for n in range(3)]
    line = charts.line_chart(
        title="t", slug="l", labels=days, series={"A": [1, 2, 1234], "B": [0, 1, 2]}
    )
    bars = charts.bar_chart(
        title="t",
        slug="b",
        labels=["<b>2 + 2?</b> & more", "q2"],
        values=[Decimal("33.33"), 5],
        unit=" %",
    )
    loop = Template(
        "{% for row in chart.rows %}<tr>{% for cell in row %}{% if forloop.first %}"
        '<th scope="row">{{ cell }}</th>{% else %}<td>{{ cell }}</td>{% endif %}{% endfor %}'
        "</tr>{% endfor %}"
    )
    for chart in (line, bars):
        assert chart.table_body == loop.render(Context({"chart": chart}))
    assert "&lt;b&gt;2 + 2?&lt;/b&gt; &amp; more" in bars.table_body
    assert '<tr><th scope="row">2026-01-03</th><td>1234</td><td>2</td></tr>' in line.table_body


def test_the_figures_from_the_views_are_rendered_once_per_refresh(
    world, client, django_assert_num_queries
):
    """The summary and charts come from the views, which change only when refreshed: cached
    under each view's last recorded refresh, they are not read again until one is refreshed,
    and then show the new figures. Learners at risk stay live."""
    import re

    from apps.analytics import services

    course = world["course"]
    for view in selectors.COURSE_DASHBOARD_VIEWS:
        services.view_refresh(view=view)
    client.force_login(world["teacher"])
    url = reverse("analytics:course", args=[course.slug])

    def summary(page: str) -> str:
        return re.search(r'data-testid="course-summary">([^<]*)<', page).group(1)

    first = client.get(url).content.decode()
    # cached: no performance, trend, funnel or hardest-question query
    with django_assert_num_queries(DASHBOARD_QUERIES - 4):
        again = client.get(url).content.decode()
    assert summary(again) == summary(first)
    assert again.count('data-testid="chart-') == first.count('data-testid="chart-') >= 3
    enrolled = int(summary(first).split(" enrolled")[0])
    _idle(course, days_ago=30, last_active_days_ago=None, name="Newcomer")
    page = client.get(url).content.decode()
    assert summary(page) == summary(first)  # the view has not been refreshed
    assert "Newcomer" in page  # at risk: live
    services.view_refresh(view="course_performance")
    assert summary(client.get(url).content.decode()).startswith(f"{enrolled + 1} enrolled")
