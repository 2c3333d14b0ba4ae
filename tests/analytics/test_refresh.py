"""Refreshing: readers are never blocked, one refresh per view at a time, runs recorded, the
function is the only way in for the app role, and beat has a schedule per view."""

import json
import threading

import pytest
from django.db import connection
from django_celery_beat.models import PeriodicTask
from psycopg import errors

from apps.analytics import services, tasks
from apps.analytics.models import VIEWS, RefreshRun
from apps.core.exceptions import DomainError
from tests.accounts.factories import UserFactory
from tests.analytics.conftest import connect
from tests.content.factories import CourseFactory, published


def _count(conn, view="course_performance") -> int:
    return conn.execute(f"SELECT count(*) FROM analytics.{view}").fetchone()[0]


@pytest.fixture
def three_courses(transactional_db):
    for _ in range(3):
        published(CourseFactory(instructor=UserFactory()))


@pytest.mark.django_db(transaction=True)
def test_a_reader_is_not_blocked_while_a_refresh_runs(three_courses):
    """The refresh's transaction is left open (as if it were still running): a reader that
    waits at most 2 s for a lock gets the previous contents at once. A plain REFRESH (the
    control) makes the same reader time out, so this test can fail."""
    refresher, reader, owner = connect(), connect(autocommit=True), connect(app_role=False)
    try:
        reader.execute("SET lock_timeout = '2s'")
        before = _count(reader)
        outcome = refresher.execute(
            "SELECT outcome FROM analytics.refresh_view('course_performance')"
        ).fetchone()[0]
        assert outcome == "refreshed"
        assert _count(reader) == before  # answered while the refresh is uncommitted
        refresher.commit()
        assert _count(reader) == before + 3

        owner.execute("REFRESH MATERIALIZED VIEW analytics.course_performance")
        with pytest.raises(errors.LockNotAvailable):
            _count(reader)
        owner.rollback()
    finally:
        for conn in (refresher, reader, owner):
            conn.close()


@pytest.mark.django_db(transaction=True)
def test_a_refresh_does_not_wait_for_a_long_reader(three_courses):
    """A reader in the middle of a long query (pg_sleep) holds its lock on the view; the
    concurrent refresh completes while that query is still running. A plain REFRESH (the
    control) cannot get its lock while the reader runs."""
    reader, refresher, owner = connect(), connect(), connect(app_role=False)
    reading = threading.Thread(
        target=lambda: reader.execute(
            "SELECT count(*), pg_sleep(6) FROM analytics.course_performance"
        ).fetchall()
    )
    try:
        pid = reader.info.backend_pid
        reading.start()
        watcher = connect(app_role=False, autocommit=True)
        for _ in range(100):
            state = watcher.execute(
                "SELECT wait_event FROM pg_stat_activity WHERE pid = %s", [pid]
            ).fetchone()
            if state and state[0] == "PgSleep":
                break
            threading.Event().wait(0.05)
        watcher.close()
        refresher.execute("SET lock_timeout = '3s'")
        outcome = refresher.execute(
            "SELECT outcome FROM analytics.refresh_view('course_performance')"
        ).fetchone()[0]
        refresher.commit()
        assert outcome == "refreshed"
        assert reading.is_alive(), "the refresh waited for the reader"

        owner.execute("SET lock_timeout = '500ms'")
        with pytest.raises(errors.LockNotAvailable):
            owner.execute("REFRESH MATERIALIZED VIEW analytics.course_performance")
        owner.rollback()
    finally:
        reading.join()
        for conn in (reader, refresher, owner):
            conn.close()


@pytest.mark.django_db(transaction=True)
def test_two_refreshes_of_one_view_at_once_run_one_and_skip_the_other(three_courses):
    start, finish = threading.Barrier(2), threading.Barrier(2)
    outcomes = []

    def refresh():
        conn = connect()
        try:
            start.wait(timeout=10)
            outcomes.append(
                conn.execute(
                    "SELECT outcome FROM analytics.refresh_view('course_performance')"
                ).fetchone()[0]
            )
            finish.wait(timeout=10)  # both have answered before either commits
            conn.commit()
        finally:
            conn.close()

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refreshed", "skipped"]


@pytest.mark.django_db(transaction=True)
def test_the_service_records_a_skipped_run_and_other_views_still_refresh(three_courses):
    holder = connect()
    try:
        holder.execute("SELECT analytics.refresh_view('course_performance')")
        skipped = services.view_refresh(view="course_performance")
        other = services.view_refresh(view="enrollment_trends")
    finally:
        holder.rollback()
        holder.close()
    assert (skipped.outcome, skipped.rows) == ("skipped", None)
    assert other.outcome == "refreshed"
    done = services.view_refresh(view="course_performance")
    assert (done.outcome, done.rows) == ("refreshed", 3)
    assert RefreshRun.objects.count() == 3


@pytest.mark.django_db
def test_the_app_role_refreshes_only_through_the_function(world):
    conn = connect()
    try:
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY analytics.course_performance")
        conn.rollback()
        with pytest.raises(errors.InvalidParameterValue):
            conn.execute("SELECT analytics.refresh_view('progress.enrollment')")
        conn.rollback()
        assert conn.execute(
            "SELECT outcome FROM analytics.refresh_view('lesson_statistics')"
        ).fetchone() == ("refreshed",)
        assert _count(conn, "lesson_statistics") >= 0
    finally:
        conn.rollback()
        conn.close()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT p.prosecdef, p.proconfig, pg_get_userbyid(p.proowner)
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'analytics' AND p.proname = 'refresh_view'
            """
        )
        definer, config, owner = cursor.fetchone()
    assert definer is True
    assert config == ["search_path=pg_catalog, pg_temp"]
    assert owner == connection.settings_dict["USER"]


@pytest.mark.django_db
def test_the_task_refreshes_and_records_the_run(world):
    result = tasks.refresh_view.apply(args=["course_performance"]).get()
    assert result["outcome"] == "refreshed"
    assert result["rows"] == 2
    run = RefreshRun.objects.get()
    assert (run.view, run.outcome, run.rows) == ("course_performance", "refreshed", 2)


@pytest.mark.django_db
def test_an_unknown_view_is_refused_before_the_database():
    with pytest.raises(DomainError):
        services.view_refresh(view="pg_class")


@pytest.mark.django_db
def test_every_view_has_its_beat_schedule_after_migrate():
    for view, minutes in VIEWS.items():
        task = PeriodicTask.objects.select_related("interval").get(
            name=f"analytics: refresh {view}"
        )
        assert task.task == "analytics.tasks.refresh_view"
        assert json.loads(task.args) == [view]
        assert task.enabled
        assert (task.interval.every, task.interval.period) == (minutes, "minutes")
    expire = PeriodicTask.objects.get(name="analytics: expire export files")
    assert expire.task == "analytics.tasks.exports_expire"
