"""Celery wiring: tasks go out only after commit; a real worker and beat run a scheduled task."""

import subprocess
import time

import pytest
from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from apps.core.models import WorkerHeartbeat
from apps.core.tasks import enqueue_on_commit, heartbeat
from config.celery import app as celery_app
from tests.conftest import BASE_DIR, subprocess_env


@pytest.fixture
def eager_celery():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.mark.django_db
def test_a_task_enqueued_in_a_transaction_runs_only_after_commit(
    eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        enqueue_on_commit(heartbeat)
        assert not WorkerHeartbeat.objects.exists()
    assert len(callbacks) == 1
    assert WorkerHeartbeat.objects.count() == 1


@pytest.mark.django_db
def test_a_rolled_back_transaction_enqueues_nothing(
    eager_celery, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        enqueue_on_commit(heartbeat)
        raise RuntimeError("abort")
    assert callbacks == []
    assert not WorkerHeartbeat.objects.exists()


def _celery(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BASE_DIR / ".venv" / "bin" / "celery"), "-A", "config", *args],
        cwd=BASE_DIR,
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen) -> str:
    process.terminate()
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_real_worker_runs_the_task_beat_schedules(redis_client):
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period="seconds")
    PeriodicTask.objects.update_or_create(
        name="test: heartbeat every second",
        defaults={"task": "core.tasks.heartbeat", "interval": every_second, "enabled": True},
    )
    worker = _celery("worker", "-l", "info", "--concurrency", "1", "-n", "test-worker@%h")
    beat = _celery(
        "beat",
        "-l",
        "info",
        "-S",
        "django_celery_beat.schedulers:DatabaseScheduler",
        "--pidfile=",
    )
    try:
        deadline = time.monotonic() + 90
        beats = 0
        while time.monotonic() < deadline and beats < 3:
            assert worker.poll() is None, "the worker exited early"
            assert beat.poll() is None, "beat exited early"
            time.sleep(1)
            row = WorkerHeartbeat.objects.filter(hostname__startswith="test-worker@").first()
            beats = row.beats if row else 0
    finally:
        beat_log = _stop(beat)
        worker_log = _stop(worker)
    # One beat comes from the worker announcing itself; the others were scheduled by beat.
    assert beats >= 3, f"worker log:\n{worker_log[-3000:]}\nbeat log:\n{beat_log[-3000:]}"
    assert "Sending due task test: heartbeat every second" in beat_log
