"""Webhooks: the outbox trigger, signatures a receiver verifies, retries with backoff, giving up,
disabling a failing endpoint, a hanging endpoint not delaying another, redeliver, the API."""

import datetime as dt
import json
import threading
import time
import uuid

import pytest
from django.db import connection, transaction
from django.utils import timezone

from apps.integrations.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from apps.integrations.services import webhooks
from apps.progress.services import enrollment_create
from tests.accounts.factories import UserFactory
from tests.integrations.receiver import Receiver

pytestmark = pytest.mark.django_db


class _Sent:
    """Stands in for the Celery app in dispatch: records the per-delivery tasks it would send."""

    def __init__(self):
        self.tasks = []

    def send_task(self, name, args):
        self.tasks.append(args)


@pytest.fixture
def sent(monkeypatch):
    recorder = _Sent()
    monkeypatch.setattr(webhooks, "current_app", recorder)
    return recorder


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def _dispatch_and_send(sent, django_capture_on_commit_callbacks, now=None) -> list[str]:
    """One beat tick of the relay and the tasks it sends, run in-process."""
    sent.tasks.clear()
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.deliveries_dispatch(now=now)
    return [webhooks.delivery_send(delivery_id=d, token=t) for d, t in sent.tasks]


def _endpoint(owner, url, types=("enrollment.created",)) -> WebhookEndpoint:
    return webhooks.endpoint_create(owner=owner, url=url, event_types=list(types))


def test_the_outbox_trigger_writes_deliveries_with_the_event(staff_user, course):
    subscribed = _endpoint(staff_user, "http://127.0.0.1:9/a")
    _endpoint(staff_user, "http://127.0.0.1:9/b", types=["order.paid"])
    inactive = _endpoint(staff_user, "http://127.0.0.1:9/c")
    webhooks.endpoint_update(endpoint=inactive, is_active=False)
    learner = UserFactory()

    enrollment = enrollment_create(user=learner, course=course)
    delivery = WebhookDelivery.objects.get()
    assert delivery.endpoint == subscribed
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.payload["type"] == "enrollment.created"
    assert delivery.payload["aggregate"] == {"type": "enrollment", "id": str(enrollment.pk)}
    assert delivery.payload["data"]["user"] == str(learner.pk)

    # Rolled back with the event: no event, no delivery.
    other = UserFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        enrollment_create(user=other, course=course)
        assert WebhookDelivery.objects.count() == 2
        raise RuntimeError
    assert WebhookDelivery.objects.count() == 1


def test_the_trigger_also_fires_for_raw_sql_events(staff_user):
    _endpoint(staff_user, "http://127.0.0.1:9/a", types=["order.paid"])
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit.events (event_id, occurred_at, aggregate_type, aggregate_id, "
            "event_type, version, data, metadata, correlation_id) VALUES (gen_random_uuid(), "
            "now(), 'order', gen_random_uuid(), 'order.paid', 1, '{}', '{}', gen_random_uuid())"
        )
    assert WebhookDelivery.objects.get().event_type == "order.paid"


def test_signed_delivery_the_receiver_verifies(
    staff_user, course, receiver, sent, django_capture_on_commit_callbacks
):
    endpoint = _endpoint(staff_user, receiver.url("/hook"))
    enrollment_create(user=UserFactory(), course=course)
    assert _dispatch_and_send(sent, django_capture_on_commit_callbacks) == ["delivered"]

    [request] = receiver.received("/hook")
    delivery = WebhookDelivery.objects.get()
    assert request.headers["Webhook-Id"] == str(delivery.pk)
    assert request.headers["Webhook-Event"] == "enrollment.created"
    signature = request.headers["Lyceum-Signature"]
    assert webhooks.signature_verify(secret=endpoint.secret, body=request.body, header=signature)
    assert not webhooks.signature_verify(secret="whsec_wrong", body=request.body, header=signature)
    assert not webhooks.signature_verify(
        secret=endpoint.secret, body=request.body + b" ", header=signature
    )
    assert json.loads(request.body)["id"] == str(delivery.event_id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert delivery.last_response == "answer 200"
    assert delivery.lease_token is None

    # Delivered: the next tick sends nothing.
    assert _dispatch_and_send(sent, django_capture_on_commit_callbacks) == []


def test_old_signatures_are_refused():
    header = webhooks.signature_header(secret="s", body=b"{}", timestamp=int(time.time()) - 3600)
    assert not webhooks.signature_verify(secret="s", body=b"{}", header=header)


def test_retried_after_a_failing_endpoint(
    staff_user, course, receiver, sent, django_capture_on_commit_callbacks
):
    receiver.plan["/flaky"] = [500]
    _endpoint(staff_user, receiver.url("/flaky"))
    enrollment_create(user=UserFactory(), course=course)

    assert _dispatch_and_send(sent, django_capture_on_commit_callbacks) == ["retrying"]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    wait = delivery.next_attempt_at - timezone.now()
    assert dt.timedelta(seconds=10) < wait <= dt.timedelta(seconds=31)  # 30 s backoff, jittered
    assert WebhookEndpoint.objects.get().consecutive_failures == 1

    # Not due yet: nothing is sent; once due, it is delivered.
    assert _dispatch_and_send(sent, django_capture_on_commit_callbacks) == []
    later = timezone.now() + dt.timedelta(minutes=1)
    assert _dispatch_and_send(sent, django_capture_on_commit_callbacks, now=later) == ["delivered"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 2, 200)
    first, second = receiver.received("/flaky")
    assert first.headers["Webhook-Id"] == second.headers["Webhook-Id"] == str(delivery.pk)
    assert WebhookEndpoint.objects.get().consecutive_failures == 0


def test_gives_up_after_max_attempts_and_disables_the_endpoint(
    settings, staff_user, course, receiver, sent, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    settings.WEBHOOK_DISABLE_AFTER = 3
    receiver.plan["/down"] = [503] * 10
    endpoint = _endpoint(staff_user, receiver.url("/down"))
    enrollment_create(user=UserFactory(), course=course)
    enrollment_create(user=UserFactory(), course=course)
    far = timezone.now() + dt.timedelta(days=1)
    assert _dispatch_and_send(sent, django_capture_on_commit_callbacks) == ["retrying"] * 2
    assert _dispatch_and_send(sent, django_capture_on_commit_callbacks, now=far) == [
        "failed",
        "failed",
    ]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"failed"}
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert endpoint.disabled_reason == "3 consecutive failed attempts"

    # Disabled: new events queue nothing for it, pending ones are not sent.
    enrollment_create(user=UserFactory(), course=course)
    assert WebhookDelivery.objects.count() == 2
    WebhookDelivery.objects.update(status="pending", next_attempt_at=timezone.now())
    assert _dispatch_and_send(sent, django_capture_on_commit_callbacks, now=far) == []

    # Re-enabled: the failure count restarts and the pending deliveries go out.
    receiver.plan["/down"] = []
    webhooks.endpoint_update(endpoint=endpoint, is_active=True)
    assert _dispatch_and_send(sent, django_capture_on_commit_callbacks, now=far) == [
        "delivered",
        "delivered",
    ]


def test_a_duplicate_or_late_task_does_nothing(
    staff_user, course, receiver, sent, django_capture_on_commit_callbacks
):
    _endpoint(staff_user, receiver.url("/once"))
    enrollment_create(user=UserFactory(), course=course)
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.deliveries_dispatch()
    [(delivery_id, token)] = sent.tasks
    assert webhooks.delivery_send(delivery_id=delivery_id, token=token) == "delivered"
    assert webhooks.delivery_send(delivery_id=delivery_id, token=token) == "skipped"
    assert len(receiver.received("/once")) == 1


@pytest.mark.django_db(transaction=True)
def test_a_hanging_endpoint_does_not_delay_another(settings, sent, receiver):
    settings.WEBHOOK_TIMEOUT_SECONDS = 3
    staff = UserFactory(is_staff=True)
    from tests.content.factories import CourseFactory, published

    course = published(CourseFactory())
    receiver.plan["/slow"] = ["hang"]
    slow = _endpoint(staff, receiver.url("/slow"))
    fast = _endpoint(staff, receiver.url("/fast"))
    enrollment_create(user=UserFactory(), course=course)
    webhooks.deliveries_dispatch()  # transaction=True: on_commit runs at once
    tasks = {WebhookDelivery.objects.get(pk=d).endpoint_id: (d, t) for d, t in sent.tasks}

    outcomes = {}

    def send(endpoint_id):
        delivery_id, token = tasks[endpoint_id]
        outcomes[endpoint_id] = webhooks.delivery_send(delivery_id=delivery_id, token=token)
        connection.close()

    hanging = threading.Thread(target=send, args=[slow.pk])
    hanging.start()
    receiver.wait_for("/slow", 1)  # the slow endpoint holds its sender now
    started = time.perf_counter()
    send(fast.pk)
    fast_seconds = time.perf_counter() - started
    assert outcomes[fast.pk] == "delivered"
    assert hanging.is_alive()  # still waiting on the slow endpoint
    hanging.join(timeout=30)
    slow_delivery = WebhookDelivery.objects.get(endpoint=slow)
    assert outcomes[slow.pk] == "retrying"
    assert slow_delivery.last_error == "timed out after 3 s"
    print(f"\nfast endpoint delivered in {fast_seconds:.2f} s while the slow one hung")


def test_redeliver_from_admin(
    verified_staff_client, staff_user, course, receiver, sent, django_capture_on_commit_callbacks
):
    _endpoint(staff_user, receiver.url("/again"))
    enrollment_create(user=UserFactory(), course=course)
    _dispatch_and_send(sent, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "delivered"

    page = verified_staff_client.get("/admin/integrations/webhookdelivery/")
    assert page.status_code == 200
    response = verified_staff_client.post(
        "/admin/integrations/webhookdelivery/",
        {"action": "redeliver", "_selected_action": [str(delivery.pk)]},
    )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    assert _dispatch_and_send(sent, django_capture_on_commit_callbacks) == ["delivered"]
    assert len(receiver.received("/again")) == 2
    assert (
        verified_staff_client.get(
            f"/admin/integrations/webhookdelivery/{delivery.pk}/change/"
        ).status_code
        == 200
    )
    assert verified_staff_client.get("/admin/integrations/webhookendpoint/").status_code == 200


def test_endpoint_api(api_client, staff_user, receiver, sent, django_capture_on_commit_callbacks):
    api_client.force_authenticate(staff_user)
    response = api_client.post(
        "/api/v1/webhooks/endpoints/",
        {"url": receiver.url("/api"), "event_types": ["order.paid"]},
    )
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["secret"].startswith("whsec_")
    url = f"/api/v1/webhooks/endpoints/{created['id']}/"
    assert "secret" not in api_client.get(url).json()
    assert api_client.get("/api/v1/webhooks/endpoints/").json()["count"] == 1

    assert api_client.post(url + "ping/").status_code == 202
    _dispatch_and_send(sent, django_capture_on_commit_callbacks)
    [request] = receiver.received("/api")
    assert webhooks.signature_verify(
        secret=created["secret"], body=request.body, header=request.headers["Lyceum-Signature"]
    )
    log = api_client.get(url + "deliveries/").json()["results"]
    assert [(d["event_type"], d["status"]) for d in log] == [("webhook.ping", "delivered")]

    rotated = api_client.post(url + "rotate-secret/").json()["secret"]
    assert rotated != created["secret"]
    patched = api_client.patch(url, {"is_active": False}, format="json")
    assert patched.json()["is_active"] is False
    bad = api_client.post(
        "/api/v1/webhooks/endpoints/", {"url": receiver.url("/x"), "event_types": ["nope"]}
    )
    assert bad.status_code == 400
    assert api_client.delete(url).status_code == 204


def test_only_staff_manage_webhooks(api_client):
    api_client.force_authenticate(UserFactory())
    response = api_client.post(
        "/api/v1/webhooks/endpoints/",
        {"url": "https://example.com/hook", "event_types": ["order.paid"]},
    )
    assert response.status_code == 403
    assert api_client.get("/api/v1/webhooks/endpoints/").status_code == 403


def test_the_signing_secret_is_encrypted_at_rest(staff_user):
    endpoint = _endpoint(staff_user, "https://example.com/hook")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT secret FROM integrations.webhook_endpoint WHERE id = %s", [endpoint.pk]
        )
        [stored] = cursor.fetchone()
    assert stored.startswith("enc1:")
    assert endpoint.secret not in stored
    assert WebhookEndpoint.objects.get().secret == endpoint.secret


def test_endpoints_are_managed_in_admin(verified_staff_client, staff_user):
    response = verified_staff_client.post(
        "/admin/integrations/webhookendpoint/add/",
        {
            "owner": str(staff_user.pk),
            "url": "https://example.com/hook",
            "description": "CRM",
            "event_types": "order.paid,enrollment.created",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    refused = verified_staff_client.post(
        "/admin/integrations/webhookendpoint/add/",
        {"owner": str(staff_user.pk), "url": "https://x.test/", "event_types": "nope"},
    )
    assert refused.status_code == 200  # the form again, with the error
    assert "Unknown event types: nope." in refused.content.decode()
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.event_types == ["enrollment.created", "order.paid"]
    assert endpoint.secret.startswith("whsec_")
    page = verified_staff_client.get(f"/admin/integrations/webhookendpoint/{endpoint.pk}/change/")
    assert page.status_code == 200
    response = verified_staff_client.post(
        f"/admin/integrations/webhookendpoint/{endpoint.pk}/change/",
        {
            "owner": str(staff_user.pk),
            "url": "https://example.com/hook2",
            "description": "CRM",
            "event_types": "order.paid",
        },
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.event_types, endpoint.is_active) == (
        "https://example.com/hook2",
        ["order.paid"],
        False,
    )


def test_a_slow_endpoint_holds_only_a_few_workers(settings, staff_user, course, sent):
    settings.WEBHOOK_MAX_IN_FLIGHT = 2
    slow = _endpoint(staff_user, "http://127.0.0.1:9/slow")
    other = _endpoint(staff_user, "http://127.0.0.1:9/other", types=["course.completed"])
    for _ in range(5):
        enrollment_create(user=UserFactory(), course=course)
    WebhookDelivery.objects.create(
        endpoint=other, event_id=uuid.uuid4(), event_type="course.completed", payload={}
    )
    webhooks.deliveries_dispatch()
    leased = WebhookDelivery.objects.filter(lease_token__isnull=False)
    assert leased.filter(endpoint=slow).count() == 2
    assert leased.filter(endpoint=other).count() == 1
    # While those two are in flight, the next tick sends nothing more to the slow endpoint.
    webhooks.deliveries_dispatch()
    assert leased.filter(endpoint=slow).count() == 2


@pytest.mark.parametrize("event_type", ["subscription.renewed", "subscription.duplicate_discarded"])
def test_subscription_renewals_and_discarded_duplicates_can_be_subscribed_to(
    staff_user, event_type
):
    """Billing records these events (a renewal billed, a duplicate Stripe checkout refunded):
    an endpoint may ask for them and gets a delivery for each."""
    _endpoint(staff_user, "http://127.0.0.1:9/a", types=[event_type])
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit.events (event_id, occurred_at, aggregate_type, aggregate_id, "
            "event_type, version, data, metadata, correlation_id) VALUES (gen_random_uuid(), "
            "now(), 'subscription', gen_random_uuid(), %s, 1, '{}', '{}', gen_random_uuid())",
            [event_type],
        )
    assert WebhookDelivery.objects.get().event_type == event_type
