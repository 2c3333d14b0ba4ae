"""Under real concurrency (threads on separate connections): a coupon is never redeemed past
its limit, invoice numbers of a year are 1..N without gaps even when payments roll back, and a
webhook event delivered several times at once is handled once, and a subscription period
renewed several times at once is billed once."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections, transaction

from apps.billing import services
from apps.billing.models import CouponRedemption, Invoice, Order, Payment, ProviderEvent
from apps.billing.webhooks import stripe_event_handle
from apps.core.exceptions import DomainError
from tests.accounts.factories import UserFactory
from tests.billing.conftest import paid_course
from tests.billing.factories import CouponFactory, PlanFactory
from tests.billing.stripe_fake import event

pytestmark = pytest.mark.django_db(transaction=True)


def test_thirty_concurrent_redemptions_of_a_coupon_limited_to_five():
    course = paid_course()
    coupon = CouponFactory(max_redemptions=5, per_user_limit=1)
    buyers = [UserFactory() for _ in range(30)]
    start = threading.Barrier(30)

    def buy(user):
        try:
            start.wait()
            services.order_create(user=user, course=course, coupon_code=coupon.code)
            return "ok"
        except DomainError as error:
            return error.code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=30) as pool:
        outcomes = list(pool.map(buy, buyers))
    assert outcomes.count("ok") == 5
    assert outcomes.count("coupon_exhausted") == 25
    coupon.refresh_from_db()
    assert coupon.times_redeemed == 5
    assert CouponRedemption.objects.filter(coupon=coupon).count() == 5
    assert Order.objects.count() == 5


class Rollback(Exception):
    pass


def test_invoice_numbers_have_no_gaps_under_concurrency_with_rollbacks():
    course = paid_course()
    orders = [services.order_create(user=UserFactory(), course=course) for _ in range(24)]
    start = threading.Barrier(24)

    def pay(indexed):
        index, order = indexed
        try:
            start.wait()
            with transaction.atomic():
                services.order_pay(order=order, provider="manual", idempotency_key=f"k{index}")
                if index % 4 == 0:  # 6 payments fail after their invoice was numbered
                    raise Rollback
            return "paid"
        except Rollback:
            return "rolled back"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=24) as pool:
        outcomes = list(pool.map(pay, enumerate(orders)))
    assert outcomes.count("paid") == 18
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == list(range(1, 19))
    assert Order.objects.filter(status="paid").count() == 18


def test_the_same_webhook_event_delivered_concurrently_is_handled_once():
    order = services.order_create(user=UserFactory(), course=paid_course(), provider="stripe")
    payload = event(
        "checkout.session.completed",
        {
            "id": "cs_concurrent",
            "mode": "payment",
            "payment_status": "paid",
            "amount_total": order.total_minor,
            "currency": order.currency.lower(),
            "metadata": {"order_id": str(order.pk)},
            "payment_intent": "pi_concurrent",
        },
    )
    start = threading.Barrier(8)

    def deliver(_):
        try:
            start.wait()
            return stripe_event_handle(event=payload)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(deliver, range(8)))
    assert sorted(outcomes) == ["duplicate"] * 7 + ["handled"]
    assert Payment.objects.filter(order=order).count() == 1
    assert Invoice.objects.filter(order=order).count() == 1
    assert ProviderEvent.objects.count() == 1


def test_a_period_renewed_eight_times_at_once_is_billed_once():
    subscription = services.subscription_create(user=UserFactory(), plan=PlanFactory(trial_days=7))
    period_start = subscription.current_period_end
    period_end = period_start + (
        subscription.current_period_end - subscription.current_period_start
    )
    start = threading.Barrier(8)

    def renew(_):
        try:
            start.wait()
            services.subscription_renew(
                subscription=subscription, period_start=period_start, period_end=period_end
            )
            return "ok"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(renew, range(8)))
    assert outcomes == ["ok"] * 8
    assert (Order.objects.count(), Payment.objects.count(), Invoice.objects.count()) == (1, 1, 1)
