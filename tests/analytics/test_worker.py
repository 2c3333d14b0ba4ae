"""A real Celery worker (against the test Redis and database, connected as the app role like in
production) runs the refresh task."""

import subprocess
import time

import pytest

from apps.analytics.models import CoursePerformance, RefreshRun
from apps.analytics.tasks import refresh_view
from tests.accounts.factories import UserFactory
from tests.conftest import app_role_worker
from tests.content.factories import CourseFactory, published


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_refreshes_a_view(redis_client):
    course = published(CourseFactory(instructor=UserFactory()))
    worker = app_role_worker("analytics-test")
    try:
        refresh_view.delay("course_performance")
        deadline = time.monotonic() + 90
        run = None
        while time.monotonic() < deadline and run is None:
            assert worker.poll() is None, "the worker exited early"
            time.sleep(0.5)
            run = RefreshRun.objects.filter(view="course_performance").first()
    finally:
        worker.terminate()
        try:
            log, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            log, _ = worker.communicate()
    assert run is not None, f"no refresh run recorded; worker log:\n{log[-3000:]}"
    assert (run.outcome, run.rows) == ("refreshed", 1), run.error
    assert CoursePerformance.objects.get(course_id=course.pk).title == course.title
