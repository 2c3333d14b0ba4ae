"""Subscriptions billed through orders: each period (renewal, or the first one) is an order with
a subscription line, its payment and a gapless invoice, once per period; plan coupons on the
first period(s); plan changes with proration (manual) or through Stripe; a subscriber's second
Stripe checkout discarded at Stripe and acknowledged."""

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from apps.audit.models import DomainEvent
from apps.billing import services
from apps.billing.models import (
    CouponRedemption,
    Invoice,
    Order,
    OrderLine,
    Payment,
    ProviderEvent,
    Subscription,
)
from apps.core.exceptions import ConflictError, DomainError
from tests.billing.factories import CouponFactory, PlanFactory
from tests.billing.stripe_fake import event
from tests.billing.test_stripe import deliver

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def tax(settings):
    settings.BILLING_TAX_RATES_BP = {"US": 0, "DE": 1900}
    settings.BILLING_DEFAULT_COUNTRY = "DE"


def money_state() -> tuple:
    return (
        Order.objects.count(),
        Payment.objects.count(),
        Invoice.objects.count(),
        OrderLine.objects.count(),
    )


def midway(subscription: Subscription, *, days: int = 30, left: int = 15) -> Subscription:
    """Put the subscription `left` days before the end of a `days`-day period."""
    now = timezone.now()
    start, end = now - (days - left) * DAY, now + left * DAY
    Subscription.objects.filter(pk=subscription.pk).update(
        current_period_start=start, current_period_end=end
    )
    OrderLine.objects.filter(subscription=subscription, kind="plan_period").update(
        period_start=start, period_end=end
    )
    subscription.refresh_from_db()
    return subscription


# -- renewals -------------------------------------------------------------------------------


def test_subscribing_bills_the_first_period_with_the_coupon_and_renewals_at_full_price(buyer):
    plan = PlanFactory(price_minor=2_000, trial_days=0)
    coupon = CouponFactory(code="HALF", percent_off=50, plan_periods=1)
    coupon.plans.add(plan)
    subscription = services.subscription_create(user=buyer, plan=plan, coupon_code="half")
    assert subscription.coupon == coupon
    assert CouponRedemption.objects.get(subscription=subscription).order is None
    coupon.refresh_from_db()
    assert coupon.times_redeemed == 1

    # The manual first period: a pending order (bank transfer) with the coupon.
    first = Order.objects.get(user=buyer)
    assert first.status == "pending" and first.coupon == coupon
    assert (first.subtotal_minor, first.discount_minor, first.tax_minor) == (2_000, 1_000, 190)
    line = first.lines.get()
    assert (line.kind, line.plan, line.subscription) == ("plan_period", plan, subscription)
    assert line.period_start == subscription.current_period_start
    services.order_pay(order=first, provider="manual", idempotency_key="transfer-1")
    first_invoice = Invoice.objects.get(order=first)

    # Staff record the next transfer: order, payment and invoice in one go, at full price.
    renewed = services.subscription_renew(subscription=subscription)
    second = Order.objects.exclude(pk=first.pk).get()
    assert second.status == "paid" and second.coupon is None
    assert (second.subtotal_minor, second.discount_minor, second.total_minor) == (2_000, 0, 2_380)
    assert second.payments.get().amount_minor == 2_380
    invoice = Invoice.objects.get(order=second)
    assert (invoice.year, invoice.number) == (first_invoice.year, first_invoice.number + 1)
    assert invoice.lines[0]["description"].startswith(plan.name)
    assert second.lines.get().period_start == renewed.current_period_start
    assert renewed.status == "active" and renewed.coupon_periods_used == 1
    assert DomainEvent.objects.filter(aggregate_id=second.pk, event_type="order.paid").exists()


def test_a_renewal_for_the_same_period_twice_bills_it_once(buyer):
    plan = PlanFactory(price_minor=1_000, trial_days=7)
    subscription = services.subscription_create(user=buyer, plan=plan)
    assert not Order.objects.exists()  # a trial is not billed
    start = subscription.current_period_end
    end = start + 30 * DAY
    services.subscription_renew(subscription=subscription, period_start=start, period_end=end)
    state = money_state()
    assert state == (1, 1, 1, 1)
    again = services.subscription_renew(
        subscription=subscription, period_start=start, period_end=end
    )
    assert money_state() == state
    assert (again.current_period_start, again.current_period_end) == (start, end)
    assert DomainEvent.objects.filter(event_type="subscription.renewed").count() == 1


def test_the_database_bills_a_period_once(buyer):
    plan = PlanFactory(trial_days=0)
    subscription = services.subscription_create(user=buyer, plan=plan)
    line = OrderLine.objects.get(subscription=subscription)
    with pytest.raises(IntegrityError), transaction.atomic():
        copy = Order.objects.create(
            user=buyer,
            currency="USD",
            subtotal_minor=line.amount_minor,
            total_minor=line.amount_minor,
        )
        OrderLine.objects.create(
            order=copy,
            kind="plan_period",
            plan=plan,
            subscription=subscription,
            period_start=line.period_start,
            period_end=line.period_end,
            description="again",
            amount_minor=line.amount_minor,
        )
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        # A credit is negative; anything else positive.
        cursor.execute(
            'UPDATE "billing"."order_line" SET amount_minor = -1 WHERE id = %s', [line.pk]
        )


def test_a_coupon_for_several_periods_and_a_trial_coupon(buyer):
    plan = PlanFactory(price_minor=1_000, trial_days=14)
    coupon = CouponFactory(kind="fixed", percent_off=None, amount_off_minor=300, currency="USD")
    coupon.plan_periods = 2
    coupon.save()
    subscription = services.subscription_create(user=buyer, plan=plan, coupon_code=coupon.code)
    for _ in range(3):
        subscription = services.subscription_renew(subscription=subscription)
    discounts = list(
        OrderLine.objects.filter(subscription=subscription, kind="plan_period")
        .order_by("period_start")
        .values_list("order__discount_minor", flat=True)
    )
    assert discounts == [300, 300, 0]  # the trial is free; the first two paid periods discounted


def test_plan_coupons_are_checked_when_subscribing(buyer, settings):
    plan, other = PlanFactory(price_minor=1_000), PlanFactory()
    elsewhere = CouponFactory()
    elsewhere.plans.add(other)
    everything = CouponFactory(percent_off=100)
    euros = CouponFactory(kind="fixed", percent_off=None, amount_off_minor=100, currency="EUR")
    for code, error in (
        (elsewhere.code, "coupon_not_applicable"),
        (everything.code, "zero_total"),
        (euros.code, "currency_mismatch"),
    ):
        with pytest.raises(DomainError) as refused:
            services.subscription_create(user=buyer, plan=plan, coupon_code=code)
        assert refused.value.code == error
    settings.BILLING_PROVIDER = "stripe"
    with pytest.raises(DomainError) as refused:
        services.subscription_create(user=buyer, plan=plan, coupon_code=CouponFactory().code)
    assert refused.value.code == "coupon_unsupported"
    assert not Subscription.objects.exists() and not CouponRedemption.objects.exists()


def test_stripe_invoice_paid_records_the_period_once(fake_stripe, api_client, buyer):
    plan = PlanFactory(slug="monthly", price_minor=1_500, trial_days=0)
    subscription = services.subscription_create(
        user=buyer, plan=plan, provider="stripe", provider_reference="sub_9"
    )
    assert not Order.objects.exists()  # Stripe bills the periods itself
    start, end = int(timezone.now().timestamp()), int((timezone.now() + 30 * DAY).timestamp())
    invoice = {
        "id": "in_9",
        "object": "invoice",
        "billing_reason": "subscription_cycle",
        "currency": "usd",
        "subtotal": 1_500,
        "total_discount_amounts": [{"amount": 500}],
        "total_taxes": [{"amount": 190}],
        "amount_paid": 1_190,
        "parent": {"subscription_details": {"subscription": "sub_9"}},
        "lines": {"data": [{"period": {"start": start, "end": end}}]},
    }
    paid = event("invoice.paid", invoice)
    assert deliver(api_client, paid).json()["result"] == "handled"
    order = Order.objects.get()
    assert (order.status, order.provider, order.total_minor) == ("paid", "stripe", 1_190)
    assert (order.subtotal_minor, order.discount_minor, order.tax_minor) == (1_500, 500, 190)
    payment = order.payments.get()
    assert (payment.provider_reference, payment.idempotency_key) == ("in_9", "stripe:in_9")
    assert Invoice.objects.filter(order=order).exists()
    subscription.refresh_from_db()
    assert int(subscription.current_period_end.timestamp()) == end

    state = money_state()
    assert deliver(api_client, paid).json()["result"] == "duplicate"
    assert deliver(api_client, event("invoice.paid", invoice)).json()["result"] == "handled"
    assert money_state() == state  # another event for the same invoice: billed once

    trial = {**invoice, "id": "in_10", "amount_paid": 0, "subtotal": 0, "total_taxes": []}
    trial["lines"] = {"data": [{"period": {"start": end, "end": end + 86_400}}]}
    deliver(api_client, event("invoice.paid", trial))
    assert money_state() == state  # nothing was charged: nothing to record


# -- plan changes ---------------------------------------------------------------------------


def test_an_upgrade_midway_credits_the_unused_time_and_charges_the_rest(buyer):
    basic = PlanFactory(price_minor=1_500, trial_days=0)
    pro = PlanFactory(price_minor=3_000, trial_days=0)
    subscription = midway(services.subscription_create(user=buyer, plan=basic))
    change = services.subscription_change_plan(subscription=subscription, plan=pro)
    assert (change.quote.credit_minor, change.quote.charge_minor) == (750, 1_500)
    order = change.order
    assert order.status == "pending" and order.subtotal_minor == 750
    assert (order.tax_minor, order.total_minor) == (143, 893)  # 19% of 750, half up
    lines = {line.kind: line for line in order.lines.all()}
    assert lines["proration"].amount_minor == 1_500 and lines["proration"].plan == pro
    assert lines["credit"].amount_minor == -750
    subscription.refresh_from_db()
    assert subscription.plan == pro and subscription.credit_minor == 0
    services.order_pay(order=order, provider="manual", idempotency_key="diff")
    invoice = Invoice.objects.get(order=order)
    assert sorted(line["amount_minor"] for line in invoice.lines) == [-750, 1_500]


def test_a_downgrade_leaves_a_credit_taken_off_the_next_period(buyer):
    pro = PlanFactory(price_minor=3_000, trial_days=0)
    basic = PlanFactory(price_minor=1_200, trial_days=0)
    subscription = midway(services.subscription_create(user=buyer, plan=pro))
    before = money_state()
    change = services.subscription_change_plan(subscription=subscription, plan=basic)
    assert change.order is None and change.quote.net_minor == 600 - 1_500
    assert money_state() == before
    subscription.refresh_from_db()
    assert subscription.credit_minor == 900
    services.subscription_renew(subscription=subscription)
    renewal = Order.objects.get(status="paid")
    assert (renewal.subtotal_minor, renewal.tax_minor, renewal.total_minor) == (300, 57, 357)
    assert sorted(renewal.lines.values_list("kind", "amount_minor")) == [
        ("credit", -900),
        ("plan_period", 1_200),
    ]
    subscription.refresh_from_db()
    assert subscription.credit_minor == 0


def test_an_interval_change_starts_a_new_period(buyer):
    monthly = PlanFactory(price_minor=1_000, trial_days=0)
    yearly = PlanFactory(price_minor=10_000, interval="year", trial_days=0)
    subscription = midway(services.subscription_create(user=buyer, plan=monthly))
    change = services.subscription_change_plan(subscription=subscription, plan=yearly)
    assert (change.quote.credit_minor, change.quote.charge_minor) == (500, 10_000)
    subscription.refresh_from_db()
    assert 364 <= (subscription.current_period_end - subscription.current_period_start).days <= 366
    line = change.order.lines.get(kind="plan_period")
    assert line.period_start == subscription.current_period_start


def test_a_trial_changes_plan_for_free(buyer):
    subscription = services.subscription_create(user=buyer, plan=PlanFactory(trial_days=7))
    change = services.subscription_change_plan(
        subscription=subscription, plan=PlanFactory(price_minor=9_000)
    )
    assert change.order is None and change.quote.net_minor == 0
    assert not Order.objects.exists()


def test_bad_plan_changes_are_refused_through_the_api_and_change_nothing(api_client, buyer):
    plan = PlanFactory(slug="basic", trial_days=0)
    PlanFactory(slug="old", is_active=False)
    PlanFactory(slug="euro", currency="EUR")
    PlanFactory(slug="pro", price_minor=5_000)
    api_client.force_authenticate(buyer)
    assert api_client.post("/api/v1/billing/subscription/", {"plan": "basic"}).status_code == 201
    subscription = Subscription.objects.get(user=buyer)
    state = (money_state(), subscription.plan_id, DomainEvent.objects.count())
    for slug, status, code in (
        ("basic", 409, "same_plan"),
        ("old", 400, "plan_inactive"),
        ("euro", 400, "currency_mismatch"),
        ("nope", 404, None),
    ):
        answer = api_client.post("/api/v1/billing/subscription/", {"plan": slug})
        assert answer.status_code == status, answer.content
        if code:
            assert answer.json()["error"]["code"] == code
    coupon = api_client.post("/api/v1/billing/subscription/", {"plan": "pro", "coupon": "X"})
    assert coupon.status_code == 400
    subscription.refresh_from_db()
    assert (money_state(), subscription.plan_id, DomainEvent.objects.count()) == state
    assert subscription.plan == plan

    services.subscription_cancel(subscription=subscription, at_period_end=False)
    with pytest.raises(ConflictError) as refused:
        services.subscription_change_plan(subscription=subscription, plan=plan)
    assert refused.value.code == "subscription_cancelled"


def test_the_api_answers_the_proration(api_client, buyer):
    PlanFactory(slug="basic", price_minor=1_500, trial_days=0)
    PlanFactory(slug="pro", price_minor=3_000)
    api_client.force_authenticate(buyer)
    api_client.post("/api/v1/billing/subscription/", {"plan": "basic"})
    midway(Subscription.objects.get(user=buyer))
    answer = api_client.post("/api/v1/billing/subscription/", {"plan": "pro"})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["plan"]["slug"] == "pro"
    assert (body["proration"]["credit_minor"], body["proration"]["charge_minor"]) == (750, 1_500)
    assert Order.objects.get(pk=body["proration_order"]).total_minor == 893
    orders = api_client.get("/api/v1/billing/orders/").json()["results"]
    kinds = sorted(line["kind"] for order in orders for line in order["lines"])
    assert kinds == ["credit", "plan_period", "proration"]
    assert all(line["course"] is None for order in orders for line in order["lines"])


def test_the_subscription_page_shows_and_makes_a_prorated_change(client, buyer):
    PlanFactory(slug="basic", name="Basic", price_minor=1_500, trial_days=0)
    PlanFactory(slug="pro", name="Pro", price_minor=3_000)
    client.force_login(buyer)
    client.post(reverse("billing:subscription_choose"), {"plan": "basic"})
    midway(Subscription.objects.get(user=buyer))
    page = client.get(reverse("billing:subscription")).content.decode()
    assert "less 7.50 USD for the unused time of your plan: 7.50 USD to pay" in page
    done = client.post(reverse("billing:subscription_choose"), {"plan": "pro"}, follow=True)
    assert "The difference, 8.93 USD, is on a new order" in done.content.decode()
    unpaid = Order.objects.filter(status="pending").order_by("created_at")
    assert unpaid.count() == 2  # the first period (bank transfer) and the difference
    for order in unpaid:
        assert reverse("billing:order", args=[order.pk]) in done.content.decode()
    assert Subscription.objects.get(user=buyer).plan.slug == "pro"


def test_subscribing_on_the_page_with_a_coupon(client, buyer):
    plan = PlanFactory(slug="basic", price_minor=1_500, trial_days=0)
    CouponFactory(code="PLAN20", percent_off=20).plans.add(plan)
    client.force_login(buyer)
    client.post(reverse("billing:subscription_choose"), {"plan": "basic", "coupon": "plan20"})
    assert Order.objects.get(user=buyer).discount_minor == 300
    page = client.get(reverse("billing:subscription")).content.decode()
    assert "Coupon PLAN20: 20% off for 1 paid period." in page


def test_a_stripe_plan_change_is_made_at_stripe_with_proration(fake_stripe, api_client, buyer):
    basic = PlanFactory(slug="basic", price_minor=1_500, trial_days=0)
    pro = PlanFactory(slug="pro", name="Pro", price_minor=3_000)
    subscription = services.subscription_create(
        user=buyer, plan=basic, provider="stripe", provider_reference="sub_7"
    )
    change = services.subscription_change_plan(subscription=subscription, plan=pro)
    assert change.order is None  # Stripe invoices the difference
    assert fake_stripe.paths() == [
        "GET /v1/subscriptions/sub_7",
        "POST /v1/products",
        "POST /v1/subscriptions/sub_7",
    ]
    form = fake_stripe.calls[-1].form
    assert form["items[0][id]"] == "si_sub_7"
    assert form["items[0][price_data][unit_amount]"] == "3000"
    assert form["items[0][price_data][product]"].startswith("prod_test_")
    assert form["items[0][price_data][recurring][interval]"] == "month"
    assert form["proration_behavior"] == "always_invoice"
    subscription.refresh_from_db()
    assert subscription.plan == pro

    now = int(timezone.now().timestamp())
    proration = {
        "id": "in_prorate",
        "object": "invoice",
        "billing_reason": "subscription_update",
        "currency": "usd",
        "subtotal": 750,
        "amount_paid": 750,
        "parent": {"subscription_details": {"subscription": "sub_7"}},
        "lines": {"data": [{"period": {"start": now, "end": now + 15 * 86_400}}]},
    }
    deliver(api_client, event("invoice.paid", proration))
    order = Order.objects.get()
    assert (order.status, order.total_minor) == ("paid", 750)
    assert order.lines.get().kind == "proration"
    subscription.refresh_from_db()
    assert subscription.current_period_end > timezone.now() + 20 * DAY  # period untouched

    fake_stripe.fail_with = (400, {"error": {"type": "invalid_request_error", "message": "no"}})
    with pytest.raises(DomainError) as refused:
        services.subscription_change_plan(subscription=subscription, plan=basic)
    assert refused.value.code == "provider_error"
    subscription.refresh_from_db()
    assert subscription.plan == pro


# -- a second Stripe checkout of a subscriber -----------------------------------------------


def test_a_duplicate_stripe_subscription_is_cancelled_refunded_and_acknowledged(
    fake_stripe, api_client, buyer, verified_staff_client
):
    plan = PlanFactory(slug="monthly", trial_days=0)
    live = services.subscription_create(
        user=buyer, plan=plan, provider="stripe", provider_reference="sub_1"
    )
    fake_stripe.invoices["in_dup"] = {
        "amount_paid": 1_500,
        "payments": {"data": [{"payment": {"payment_intent": "pi_dup"}}]},
    }
    session = {
        "id": "cs_dup",
        "object": "checkout.session",
        "mode": "subscription",
        "subscription": "sub_2",
        "invoice": "in_dup",
        "metadata": {"user_id": str(buyer.pk), "plan": "monthly"},
    }
    completed = event("checkout.session.completed", session)
    answer = deliver(api_client, completed)
    assert answer.status_code == 200, answer.content
    assert answer.json()["result"] == "duplicate_subscription"
    assert fake_stripe.paths() == [
        "GET /v1/subscriptions/sub_2",
        "DELETE /v1/subscriptions/sub_2",
        "GET /v1/invoices/in_dup",
        "POST /v1/refunds",
    ]
    assert fake_stripe.calls[-1].form["payment_intent"] == "pi_dup"
    assert fake_stripe.calls[-1].headers["Idempotency-Key"] == "lyceum-discard-sub_2-pi_dup"
    assert list(Subscription.objects.values_list("pk", flat=True)) == [live.pk]
    recorded = ProviderEvent.objects.get(event_id=completed["id"])
    assert recorded.outcome == "duplicate_subscription"
    assert DomainEvent.objects.filter(
        aggregate_id=live.pk, event_type="subscription.duplicate_discarded"
    ).exists()

    assert deliver(api_client, completed).json()["result"] == "duplicate"
    assert len(fake_stripe.calls) == 4  # a replay asks Stripe nothing

    admin = verified_staff_client.get(
        "/admin/billing/providerevent/", {"outcome": "duplicate_subscription"}
    )
    assert admin.status_code == 200 and completed["id"] in admin.content.decode()


def test_a_stripe_refusal_to_cancel_the_duplicate_is_retried(fake_stripe, api_client, buyer):
    plan = PlanFactory(slug="monthly", trial_days=7)
    services.subscription_create(user=buyer, plan=plan, provider="stripe", provider_reference="s1")
    session = {
        "id": "cs_dup2",
        "object": "checkout.session",
        "mode": "subscription",
        "subscription": "sub_3",
        "metadata": {"user_id": str(buyer.pk), "plan": "monthly"},
    }
    completed = event("checkout.session.completed", session)
    fake_stripe.fail_with = (400, {"error": {"type": "invalid_request_error", "message": "no"}})
    refused = deliver(api_client, completed)
    assert refused.status_code == 502
    assert not ProviderEvent.objects.filter(event_id=completed["id"]).exists()
    answer = deliver(api_client, completed)  # Stripe's redelivery
    assert answer.json()["result"] == "duplicate_subscription"
    assert fake_stripe.paths()[-1] == "DELETE /v1/subscriptions/sub_3"  # a trial: no refund
