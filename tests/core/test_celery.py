"""Celery wiring: tasks go out only after commit; a real worker and beat run a scheduled task."""

import subprocess
import time

import pytest
from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from kombu.exceptions import OperationalError

from apps.core.models import TaskOutbox, WorkerHeartbeat
from apps.core.services import outbox_relay
from apps.core.tasks import enqueue_on_commit, heartbeat
from config.celery import app as celery_app
from tests.conftest import BASE_DIR, subprocess_env


def queued(redis_client) -> int:
    """Messages waiting in the default Celery queue of the test Redis database."""
    return redis_client.llen("celery")


@pytest.mark.django_db
def test_a_task_enqueued_in_a_transaction_is_sent_only_after_commit(
    redis_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        enqueue_on_commit(heartbeat)
        assert queued(redis_client) == 0
        assert TaskOutbox.objects.get().sent_at is None
    assert len(callbacks) == 1
    assert queued(redis_client) == 1
    assert TaskOutbox.objects.get().sent_at is not None


@pytest.mark.django_db
def test_a_rolled_back_transaction_enqueues_nothing(
    redis_client, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        enqueue_on_commit(heartbeat)
        raise RuntimeError("abort")
    assert callbacks == []
    assert queued(redis_client) == 0
    assert not TaskOutbox.objects.exists()


@pytest.mark.django_db
def test_a_task_is_kept_while_the_broker_is_down_and_relayed_later(
    redis_client, django_capture_on_commit_callbacks, monkeypatch
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to redis: Connection refused")

    monkeypatch.setattr(celery_app, "send_task", broker_down)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        enqueue_on_commit(heartbeat)
    entry = TaskOutbox.objects.get()
    assert entry.sent_at is None and entry.attempts == 1 and "refused" in entry.last_error
    monkeypatch.undo()  # Redis is back
    assert outbox_relay(older_than_seconds=0) == 1
    assert queued(redis_client) == 1
    assert outbox_relay(older_than_seconds=0) == 0  # sent once, not twice


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


@pytest.mark.django_db
def test_every_scheduled_task_exists():
    from django_celery_beat.models import PeriodicTask

    celery_app.loader.import_default_modules()  # what a worker does at start: autodiscovery
    registered = set(celery_app.tasks)
    scheduled = set(PeriodicTask.objects.values_list("task", flat=True))
    assert scheduled, "migrations schedule the periodic tasks"
    assert scheduled <= registered, scheduled - registered
