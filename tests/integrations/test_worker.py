"""No webhook lost when the worker dies mid-delivery: a real Celery worker (app role, test Redis)
is SIGKILLed while its delivery hangs at the receiver; once the lease lapses, a new worker
delivers it again with the same delivery id."""

import os
import signal
import subprocess
import time

import pytest

from apps.integrations.models import WebhookDelivery
from apps.integrations.services import webhooks
from apps.progress.services import enrollment_create
from tests.accounts.factories import UserFactory
from tests.conftest import app_role_worker
from tests.content.factories import CourseFactory, published
from tests.integrations.receiver import Receiver

LEASE = 4


def _worker(name: str) -> subprocess.Popen:
    return app_role_worker(name, WEBHOOK_LEASE_SECONDS=str(LEASE), WEBHOOK_TIMEOUT_SECONDS="60")


def _stop(worker: subprocess.Popen) -> str:
    if worker.poll() is None:
        worker.terminate()
    try:
        log, _ = worker.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        log, _ = worker.communicate()
    return log


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_delivery_survives_a_worker_killed_mid_delivery(settings, redis_client):
    settings.WEBHOOK_LEASE_SECONDS = LEASE
    staff = UserFactory(is_staff=True)
    course = published(CourseFactory())
    with Receiver() as receiver:
        receiver.plan["/hook"] = ["hang"]  # the first attempt hangs, the second gets a 200
        endpoint = webhooks.endpoint_create(
            owner=staff, url=receiver.url("/hook"), event_types=["enrollment.created"]
        )
        enrollment_create(user=UserFactory(), course=course)
        delivery = WebhookDelivery.objects.get()

        first = _worker("hooks-first")
        logs = []
        try:
            webhooks.deliveries_dispatch()
            arrived = receiver.wait_for("/hook", 1, timeout=90)
            if not arrived:
                pytest.fail("no request reached the receiver; worker log:\n" + _stop(first)[-3000:])
            [hung] = arrived
            assert hung.headers["Webhook-Id"] == str(delivery.pk)
            os.killpg(first.pid, signal.SIGKILL)  # the whole worker, mid-delivery
            first.wait(timeout=10)
        finally:
            logs.append(_stop(first))
        killed_at = time.monotonic()
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("pending", 1)
        assert delivery.lease_expires_at is not None  # held by the dead worker's lease

        second = _worker("hooks-second")
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                assert second.poll() is None, "the second worker exited early"
                webhooks.deliveries_dispatch()  # what beat does every few seconds
                delivery.refresh_from_db()
                if delivery.status == "delivered":
                    break
                time.sleep(0.5)
        finally:
            logs.append(_stop(second))
        redelivered_after = time.monotonic() - killed_at
    print(f"\nredelivered {redelivered_after:.1f} s after the kill (lease {LEASE} s)")
    assert delivery.status == "delivered", "\n".join(log[-3000:] for log in logs)
    assert delivery.attempts == 2
    requests = receiver.received("/hook")
    assert len(requests) == 2
    assert {r.headers["Webhook-Id"] for r in requests} == {str(delivery.pk)}
    for request in requests:
        assert webhooks.signature_verify(
            secret=endpoint.secret, body=request.body, header=request.headers["Lyceum-Signature"]
        )
