"""Stripe through the official library against a local fake API server, and its webhook with
payloads signed like Stripe signs them: checkout sessions, idempotent and all-or-nothing event
handling, refunds and subscriptions. No network."""

import json

import pytest
from django.urls import reverse

from apps.audit.models import DomainEvent
from apps.billing import services
from apps.billing.models import (
    Invoice,
    Order,
    Payment,
    ProviderEvent,
    Refund,
    Subscription,
)
from apps.core.exceptions import ConflictError
from apps.progress.models import Enrollment
from apps.progress.services import enrollment_create, enrollment_drop
from tests.accounts.factories import UserFactory
from tests.billing.conftest import paid_course
from tests.billing.factories import CouponFactory, PlanFactory
from tests.billing.stripe_fake import event, sign

pytestmark = pytest.mark.django_db

WEBHOOK = "/api/v1/billing/webhooks/stripe/"


def deliver(client, payload: dict, **sign_kwargs):
    body = json.dumps(payload).encode()
    return client.post(
        WEBHOOK,
        data=body,
        content_type="application/json",
        headers={"Stripe-Signature": sign(body, **sign_kwargs)},
    )


def completed(order: Order, **overrides) -> dict:
    session = {
        "id": f"cs_test_{order.pk.hex[:8]}",
        "object": "checkout.session",
        "mode": "payment",
        "payment_status": "paid",
        "amount_total": order.total_minor,
        "currency": order.currency.lower(),
        "client_reference_id": str(order.pk),
        "metadata": {"order_id": str(order.pk)},
        "payment_intent": f"pi_test_{order.pk.hex[:8]}",
    }
    return event("checkout.session.completed", {**session, **overrides})


def money_state() -> tuple:
    return (
        Payment.objects.count(),
        Invoice.objects.count(),
        Refund.objects.count(),
        ProviderEvent.objects.count(),
        sorted(Order.objects.values_list("status", flat=True)),
        Enrollment.objects.filter(enrollment_type="paid").count(),
    )


# -- checkout sessions ----------------------------------------------------------------------


def test_checkout_redirects_to_a_stripe_session_for_the_order_total(
    fake_stripe, client, buyer, course, settings
):
    settings.BILLING_TAX_RATES_BP = {"DE": 1900}
    CouponFactory(code="TENOFF", percent_off=10)
    client.force_login(buyer)
    response = client.post(
        reverse("billing:checkout", args=[course.slug]), {"coupon": "tenoff", "country": "DE"}
    )
    order = Order.objects.get(user=buyer)
    assert order.provider == "stripe" and order.total_minor == 10_710  # 90.00 + 19 %
    assert response.status_code == 302
    assert response["Location"].startswith("https://checkout.stripe.test/c/pay/cs_test_")
    [call] = fake_stripe.calls
    assert (call.method, call.path) == ("POST", "/v1/checkout/sessions")
    assert call.headers["Authorization"] == "Bearer sk_test_lyceum"
    assert call.form["mode"] == "payment"
    assert call.form["line_items[0][price_data][unit_amount]"] == "10710"
    assert call.form["line_items[0][price_data][currency]"] == "usd"
    assert call.form["metadata[order_id]"] == str(order.pk)
    assert call.form["payment_intent_data[metadata][order_id]"] == str(order.pk)
    assert call.form["client_reference_id"] == str(order.pk)
    assert call.form["success_url"].endswith(f"/billing/orders/{order.pk}/success/")
    assert call.form["cancel_url"].endswith(f"/billing/orders/{order.pk}/cancelled/")
    assert order.provider_reference == response["Location"].rsplit("/", 1)[1]
    # Back from Stripe before the webhook: the result page says the payment is being confirmed.
    page = client.get(reverse("billing:order_result", args=[order.pk, "success"]))
    assert b'data-testid="payment-result"' in page.content and b"confirming" in page.content
    cancelled = client.get(reverse("billing:order_result", args=[order.pk, "cancelled"]))
    assert b"nothing was charged" in cancelled.content and b"pay-now" in cancelled.content


def test_a_provider_refusal_is_shown_and_the_order_stays_pending(
    fake_stripe, client, buyer, course
):
    fake_stripe.fail_with = (
        402,
        {"error": {"type": "invalid_request_error", "message": "Amount too small"}},
    )
    client.force_login(buyer)
    response = client.post(reverse("billing:checkout", args=[course.slug]), follow=True)
    order = Order.objects.get(user=buyer)
    assert order.status == "pending" and order.provider_reference == ""
    assert response.status_code == 200 and b"pay-now" in response.content


# -- webhooks -------------------------------------------------------------------------------


def test_checkout_completed_pays_enrolls_and_invoices_once(fake_stripe, api_client, buyer, course):
    order = services.order_create(user=buyer, course=course)
    payload = completed(order)
    first = deliver(api_client, payload)
    assert first.status_code == 200, first.content
    assert first.json() == {
        "id": payload["id"],
        "type": "checkout.session.completed",
        "result": "handled",
    }
    order.refresh_from_db()
    assert order.status == "paid" and order.provider_reference == f"pi_test_{order.pk.hex[:8]}"
    payment = Payment.objects.get(order=order)
    assert (payment.provider, payment.amount_minor, payment.status) == (
        "stripe",
        order.total_minor,
        "succeeded",
    )
    assert Enrollment.objects.get(user=buyer, course=course).enrollment_type == "paid"
    assert Invoice.objects.filter(order=order).count() == 1
    state, events = money_state(), DomainEvent.objects.count()

    again = deliver(api_client, payload)  # Stripe redelivers the same event
    assert again.status_code == 200 and again.json()["result"] == "duplicate"
    assert money_state() == state and DomainEvent.objects.count() == events


@pytest.mark.parametrize(
    ("signature", "code"),
    [
        ({"secret": "whsec_someone_else"}, "invalid_signature"),
        ({"timestamp": 1_000_000_000}, "invalid_signature"),  # replayed from long ago
    ],
)
def test_a_bad_signature_is_refused_and_changes_nothing(
    fake_stripe, api_client, buyer, course, signature, code
):
    order = services.order_create(user=buyer, course=course)
    before = money_state()
    response = deliver(api_client, completed(order), **signature)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert money_state() == before


def test_a_missing_signature_or_a_tampered_body_is_refused(fake_stripe, api_client, buyer, course):
    order = services.order_create(user=buyer, course=course)
    body = json.dumps(completed(order)).encode()
    unsigned = api_client.post(WEBHOOK, data=body, content_type="application/json")
    assert unsigned.status_code == 400
    tampered = api_client.post(
        WEBHOOK,
        data=body.replace(b'"paid"', b'"PAID"'),
        content_type="application/json",
        headers={"Stripe-Signature": sign(body)},
    )
    assert tampered.status_code == 400
    assert tampered.json()["error"]["code"] == "invalid_signature"
    assert not ProviderEvent.objects.exists() and not Payment.objects.exists()


def test_an_unhandled_event_type_is_recorded_and_acknowledged(fake_stripe, api_client):
    payload = event("customer.created", {"id": "cus_1", "object": "customer"})
    response = deliver(api_client, payload)
    assert response.status_code == 200 and response.json()["result"] == "ignored"
    assert ProviderEvent.objects.get().event_type == "customer.created"
    assert deliver(api_client, payload).json()["result"] == "duplicate"


def test_an_event_for_an_unknown_order_is_refused_and_changes_nothing(
    fake_stripe, api_client, buyer, course
):
    order = services.order_create(user=buyer, course=course)
    before = money_state()
    bogus = completed(
        order, metadata={"order_id": "8d9f0e0e-0000-4000-8000-000000000000"}, client_reference_id=""
    )
    response = deliver(api_client, bogus)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_order"
    garbage = completed(order, metadata={"order_id": "not-a-uuid"}, client_reference_id="")
    assert deliver(api_client, garbage).status_code == 404
    assert money_state() == before


def test_an_amount_that_differs_from_the_order_changes_nothing(
    fake_stripe, api_client, buyer, course
):
    order = services.order_create(user=buyer, course=course)
    before = money_state()
    response = deliver(api_client, completed(order, amount_total=1))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "amount_mismatch"
    assert money_state() == before


def test_a_failure_midway_leaves_nothing_and_a_redelivery_succeeds(fake_stripe, api_client, buyer):
    course = paid_course(max_enrollments=1)
    other = enrollment_create(user=UserFactory(), course=course, enrollment_type="gift")
    order = services.order_create(user=buyer, course=course)
    payload = completed(order)
    before, events = money_state(), DomainEvent.objects.filter(event_type="order.paid").count()

    refused = deliver(api_client, payload)  # the course is full when the enrollment is made
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "course_full"
    order.refresh_from_db()
    assert order.status == "pending" and order.paid_at is None
    assert money_state() == before  # no payment, invoice, paid enrollment, claimed event
    assert DomainEvent.objects.filter(event_type="order.paid").count() == events

    enrollment_drop(enrollment=other)  # a seat frees up; Stripe retries the same event
    retried = deliver(api_client, payload)
    assert retried.status_code == 200 and retried.json()["result"] == "handled"
    order.refresh_from_db()
    assert order.status == "paid" and Invoice.objects.filter(order=order).exists()


def test_the_invoice_step_failing_rolls_back_payment_and_enrollment(
    fake_stripe, api_client, buyer, course, monkeypatch
):
    order = services.order_create(user=buyer, course=course)
    before = money_state()

    def invoice_refused(*, order):
        raise ConflictError("Invoicing is down.", code="invoicing_down")

    monkeypatch.setattr(services.orders, "invoice_issue", invoice_refused)
    response = deliver(api_client, completed(order))
    assert response.status_code == 409
    assert money_state() == before
    assert not Enrollment.objects.filter(user=buyer).exists()
    monkeypatch.undo()
    assert deliver(api_client, completed(order)).json()["result"] == "handled"


def test_a_failed_payment_fails_the_order_and_gives_the_coupon_back(
    fake_stripe, api_client, buyer, course
):
    coupon = CouponFactory(code="ONCE", percent_off=10, max_redemptions=1)
    order = services.order_create(user=buyer, course=course, coupon_code="once")
    intent = {
        "id": "pi_failed",
        "object": "payment_intent",
        "metadata": {"order_id": str(order.pk)},
        "last_payment_error": {"message": "Your card was declined."},
    }
    response = deliver(api_client, event("payment_intent.payment_failed", intent))
    assert response.status_code == 200
    order.refresh_from_db()
    coupon.refresh_from_db()
    assert order.status == "failed" and coupon.times_redeemed == 0
    assert not Payment.objects.exists()


def test_refunds_in_both_directions_are_recorded_once(fake_stripe, api_client, buyer, course):
    order = services.order_create(user=buyer, course=course)
    deliver(api_client, completed(order))
    order.refresh_from_db()
    # Staff refund part of it here: Stripe is asked to give the money back.
    refund = services.refund_create(order=order, amount_minor=2_500, reason="goodwill")
    refund_call = fake_stripe.calls[-1]
    assert (refund_call.path, refund_call.form["amount"]) == ("/v1/refunds", "2500")
    assert refund_call.form["payment_intent"] == order.provider_reference
    assert refund.provider_reference.startswith("re_test_")
    charge = {
        "id": "ch_1",
        "object": "charge",
        "payment_intent": order.provider_reference,
        "amount_refunded": 2_500,
        "refunds": {"data": [{"id": refund.provider_reference}]},
    }
    # Stripe's charge.refunded for that refund: already recorded, nothing more.
    assert deliver(api_client, event("charge.refunded", charge)).status_code == 200
    assert Refund.objects.count() == 1
    # The rest refunded in Stripe's dashboard: recorded, the order refunded, access suspended.
    calls = len(fake_stripe.calls)
    everything = {**charge, "amount_refunded": order.total_minor}
    assert deliver(api_client, event("charge.refunded", everything)).status_code == 200
    order.refresh_from_db()
    assert order.status == "refunded" and order.refunded_minor == order.total_minor
    assert Refund.objects.count() == 2 and len(fake_stripe.calls) == calls  # Stripe not asked
    assert Enrollment.objects.get(user=buyer, course=course).status == "suspended"


# -- subscriptions --------------------------------------------------------------------------


def test_subscribing_with_stripe_then_its_lifecycle_through_webhooks(
    fake_stripe, client, api_client, buyer
):
    plan = PlanFactory(slug="monthly", trial_days=7)
    client.force_login(buyer)
    response = client.post(reverse("billing:subscription_choose"), {"plan": "monthly"})
    assert response.status_code == 302 and "checkout.stripe.test" in response["Location"]
    call = fake_stripe.calls[-1]
    assert call.form["mode"] == "subscription"
    assert call.form["line_items[0][price_data][recurring][interval]"] == "month"
    assert call.form["line_items[0][price_data][unit_amount]"] == str(plan.price_minor)
    assert call.form["subscription_data[trial_period_days]"] == "7"
    assert not Subscription.objects.exists()  # only once Stripe says so

    session = {
        "id": "cs_sub",
        "object": "checkout.session",
        "mode": "subscription",
        "subscription": "sub_1",
        "metadata": {"user_id": str(buyer.pk), "plan": "monthly"},
    }
    assert deliver(api_client, event("checkout.session.completed", session)).status_code == 200
    subscription = Subscription.objects.get(user=buyer)
    assert (subscription.provider, subscription.provider_reference) == ("stripe", "sub_1")
    assert subscription.status == "trialing"

    invoice = {"object": "invoice", "parent": {"subscription_details": {"subscription": "sub_1"}}}
    deliver(api_client, event("invoice.payment_failed", invoice))
    subscription.refresh_from_db()
    assert subscription.status == "past_due"

    start, end = 1_900_000_000, 1_902_592_000
    paid = {**invoice, "lines": {"data": [{"period": {"start": start, "end": end}}]}}
    deliver(api_client, event("invoice.paid", paid))
    subscription.refresh_from_db()
    assert subscription.status == "active"
    assert int(subscription.current_period_end.timestamp()) == end

    # Cancelling here tells Stripe; Stripe's deletion event ends it.
    services.subscription_cancel(subscription=subscription)
    assert fake_stripe.calls[-1].path == "/v1/subscriptions/sub_1"
    assert fake_stripe.calls[-1].form["cancel_at_period_end"] == "true"
    deleted = {"id": "sub_1", "object": "subscription", "status": "canceled"}
    deliver(api_client, event("customer.subscription.deleted", deleted))
    subscription.refresh_from_db()
    assert subscription.status == "cancelled"

    elsewhere = {"subscription_details": {"subscription": "sub_x"}}
    unknown = event("invoice.paid", {**paid, "parent": elsewhere})
    assert deliver(api_client, unknown).json()["error"]["code"] == "unknown_subscription"


def test_the_api_gives_the_checkout_url_of_an_order(fake_stripe, api_client, buyer, course):
    order = services.order_create(user=buyer, course=course)
    api_client.force_authenticate(buyer)
    response = api_client.post(f"/api/v1/billing/orders/{order.pk}/checkout/")
    assert response.status_code == 200, response.content
    assert response.json()["url"].startswith("https://checkout.stripe.test/c/pay/cs_test_")
    manual = services.order_create(user=buyer, course=paid_course(), provider="manual")
    refused = api_client.post(f"/api/v1/billing/orders/{manual.pk}/checkout/")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "no_hosted_checkout"
