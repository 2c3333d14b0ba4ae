"""Quotes, orders, payment (all or nothing), invoices, refunds and subscriptions through the
services."""

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone

from apps.audit.models import DomainEvent
from apps.billing import selectors, services
from apps.billing.models import Invoice, Order, OrderStatus, Payment
from apps.core.exceptions import ConflictError, DomainError
from apps.progress.models import Enrollment
from apps.progress.services import enrollment_create
from tests.accounts.factories import UserFactory
from tests.billing.conftest import paid_course
from tests.billing.factories import CouponFactory, PlanFactory
from tests.content.factories import CategoryFactory

pytestmark = pytest.mark.django_db

RATES = {"DE": 1900, "GB": 2000, "US": 0}


def _pay(order, key="k1"):
    return services.order_pay(order=order, provider="manual", idempotency_key=key)


@override_settings(BILLING_TAX_RATES_BP=RATES)
@pytest.mark.parametrize(
    ("price", "coupon", "country", "expected"),
    [
        (10_000, None, "US", (10_000, 0, 0, 10_000)),
        (10_000, None, "DE", (10_000, 0, 1_900, 11_900)),
        (10_000, {"kind": "percent", "percent_off": 25}, "DE", (10_000, 2_500, 1_425, 8_925)),
        # 15% of 999 = 149.85 -> 150; 19% of 849 = 161.31 -> 161
        (999, {"kind": "percent", "percent_off": 15}, "de", (999, 150, 161, 1_010)),
        (
            4_999,
            {"kind": "fixed", "percent_off": None, "amount_off_minor": 1_000, "currency": "USD"},
            "GB",
            (4_999, 1_000, 800, 4_799),
        ),
        (10_000, None, "ZZ", (10_000, 0, 0, 10_000)),  # no rate configured: no tax
    ],
)
def test_quote_totals_with_coupons_and_tax(buyer, price, coupon, country, expected):
    course = paid_course(price_minor=price)
    code = CouponFactory(**coupon).code.lower() if coupon else ""
    q = services.quote(user=buyer, course=course, coupon_code=code, country=country)
    assert (q.subtotal_minor, q.discount_minor, q.tax_minor, q.total_minor) == expected
    assert isinstance(q.total_minor, int)


@pytest.mark.parametrize(
    ("coupon", "code"),
    [
        (
            {
                "valid_until": timezone.now() - dt.timedelta(days=1),
                "valid_from": timezone.now() - dt.timedelta(days=9),
            },
            "coupon_expired",
        ),
        ({"valid_from": timezone.now() + dt.timedelta(days=1)}, "coupon_not_active"),
        ({"max_redemptions": 0}, "coupon_exhausted"),
        (
            {"kind": "fixed", "percent_off": None, "amount_off_minor": 100, "currency": "EUR"},
            "currency_mismatch",
        ),
        ({"kind": "percent", "percent_off": 100}, "zero_total"),
    ],
)
def test_bad_coupons_are_refused_and_create_nothing(buyer, course, coupon, code):
    bad = CouponFactory(**coupon)
    with pytest.raises(DomainError) as error:
        services.order_create(user=buyer, course=course, coupon_code=bad.code)
    assert error.value.code == code
    assert not Order.objects.exists()


def test_coupon_for_other_courses_does_not_apply(buyer, course):
    coupon = CouponFactory()
    coupon.courses.add(paid_course())
    with pytest.raises(DomainError) as error:
        services.quote(user=buyer, course=course, coupon_code=coupon.code)
    assert error.value.code == "coupon_not_applicable"


def test_per_user_limit_and_release_on_cancel(buyer, course):
    coupon = CouponFactory(per_user_limit=1, max_redemptions=5)
    order = services.order_create(user=buyer, course=course, coupon_code=coupon.code)
    coupon.refresh_from_db()
    assert coupon.times_redeemed == 1
    with pytest.raises(DomainError) as error:
        services.quote(user=buyer, course=course, coupon_code=coupon.code)
    assert error.value.code == "coupon_user_limit"
    services.order_cancel(order=order)
    coupon.refresh_from_db()
    assert coupon.times_redeemed == 0
    services.quote(user=buyer, course=course, coupon_code=coupon.code.lower())


def test_free_course_is_not_for_sale(buyer):
    from tests.content.factories import CourseFactory, published

    with pytest.raises(DomainError) as error:
        services.quote(user=buyer, course=published(CourseFactory()))
    assert error.value.code == "not_for_sale"


def test_pay_records_payment_enrolls_invoices_and_records_events(buyer, course):
    order = services.order_create(user=buyer, course=course, country="US")
    assert selectors.course_access(user=buyer, course=course) is None
    _pay(order)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.paid_at is not None
    payment = Payment.objects.get(order=order)
    assert payment.amount_minor == order.total_minor and payment.status == "succeeded"
    enrollment = Enrollment.objects.get(user=buyer, course=course)
    assert enrollment.enrollment_type == "paid" and enrollment.status == "active"
    invoice = order.invoice
    assert invoice.number >= 1 and invoice.year == timezone.now().year
    assert invoice.total_minor == order.total_minor
    types = set(
        DomainEvent.objects.filter(aggregate_id=order.pk).values_list("event_type", flat=True)
    )
    assert {"order.created", "order.paid"} <= types
    assert selectors.course_access(user=buyer, course=course) == "purchase"


def test_paying_twice_with_the_same_key_is_idempotent_and_another_key_conflicts(buyer, course):
    order = services.order_create(user=buyer, course=course)
    _pay(order)
    _pay(order)  # a retry
    assert Payment.objects.filter(order=order).count() == 1
    with pytest.raises(ConflictError) as error:
        _pay(order, key="another")
    assert error.value.code == "order_not_payable"
    assert Invoice.objects.filter(order=order).count() == 1


def test_amount_or_currency_mismatch_changes_nothing(buyer, course):
    order = services.order_create(user=buyer, course=course)
    with pytest.raises(DomainError) as error:
        services.order_pay(order=order, provider="manual", idempotency_key="x", amount_minor=1)
    assert error.value.code == "amount_mismatch"
    with pytest.raises(DomainError) as error:
        services.order_pay(order=order, provider="manual", idempotency_key="x", currency="EUR")
    assert error.value.code == "currency_mismatch"
    order.refresh_from_db()
    assert order.status == "pending" and not Payment.objects.exists()


def test_payment_is_all_or_nothing_when_the_course_is_full(buyer):
    course = paid_course(max_enrollments=1)
    enrollment_create(user=UserFactory(), course=course, enrollment_type="gift")
    order = services.order_create(user=buyer, course=course)
    counter_before = list(Invoice.objects.values_list("number", flat=True))
    events_before = DomainEvent.objects.count()
    with pytest.raises(ConflictError) as error:
        _pay(order)
    assert error.value.code == "course_full"
    order.refresh_from_db()
    assert order.status == "pending" and order.paid_at is None
    assert not Payment.objects.exists()
    assert list(Invoice.objects.values_list("number", flat=True)) == counter_before
    assert DomainEvent.objects.count() == events_before
    assert not Enrollment.objects.filter(user=buyer).exists()
    # once a seat is free, the same order pays and its invoice takes the number not used
    Enrollment.objects.get(course=course).delete()
    _pay(order)
    order.refresh_from_db()
    assert order.status == "paid"


def test_already_bought_course_cannot_be_ordered_again(buyer, course):
    _pay(services.order_create(user=buyer, course=course))
    with pytest.raises(ConflictError) as error:
        services.order_create(user=buyer, course=course)
    assert error.value.code == "already_purchased"


def test_partial_then_full_refund_suspends_access(buyer, course):
    order = services.order_create(user=buyer, course=course)
    _pay(order)
    services.refund_create(order=order, amount_minor=3_000, reason="goodwill")
    order.refresh_from_db()
    assert order.status == "partially_refunded" and order.refunded_minor == 3_000
    assert Enrollment.objects.get(user=buyer, course=course).status == "active"
    with pytest.raises(DomainError) as error:
        services.refund_create(order=order, amount_minor=order.total_minor)
    assert error.value.code == "refund_above_paid"
    with pytest.raises(DomainError) as error:
        services.refund_create(order=order, amount_minor=0)
    assert error.value.code == "invalid_amount"
    services.refund_create(order=order)  # the rest
    order.refresh_from_db()
    assert order.status == "refunded" and order.refunded_minor == order.total_minor
    assert Enrollment.objects.get(user=buyer, course=course).status == "suspended"
    assert selectors.course_access(user=buyer, course=course) is None
    events = DomainEvent.objects.filter(event_type="refund.issued", aggregate_id=order.pk)
    assert events.count() == 2
    with pytest.raises(ConflictError):
        services.refund_create(order=order, amount_minor=1)


def test_buying_again_after_a_refund_reactivates(buyer, course):
    order = services.order_create(user=buyer, course=course)
    _pay(order)
    services.refund_create(order=order)
    _pay(services.order_create(user=buyer, course=course), key="k2")
    enrollment = Enrollment.objects.get(user=buyer, course=course)
    assert enrollment.status == "active" and enrollment.enrollment_type == "paid"


def test_unpaid_orders_cannot_be_refunded_or_paid_after_cancel(buyer, course):
    order = services.order_create(user=buyer, course=course)
    with pytest.raises(ConflictError):
        services.refund_create(order=order)
    services.order_cancel(order=order)
    with pytest.raises(ConflictError):
        _pay(order)


def test_failed_order_can_be_paid_later(buyer, course):
    order = services.order_create(user=buyer, course=course)
    services.order_fail(order=order, reason="card declined")
    _pay(order)
    order.refresh_from_db()
    assert order.status == "paid"


def test_subscription_access_follows_status_and_plan(buyer):
    category = CategoryFactory()
    child = CategoryFactory(parent=category)
    covered = paid_course(category=child)
    other = paid_course()
    plan = PlanFactory(trial_days=7)
    plan.categories.add(category)
    subscription = services.subscription_create(user=buyer, plan=plan)
    assert subscription.status == "trialing"
    assert selectors.course_access(user=buyer, course=covered) == "subscription"
    assert selectors.course_access(user=buyer, course=other) is None
    with pytest.raises(ConflictError):
        services.subscription_create(user=buyer, plan=plan)
    services.subscription_cancel(subscription=subscription)
    subscription.refresh_from_db()
    assert subscription.cancel_at_period_end and subscription.status == "trialing"
    services.subscription_cancel(subscription=subscription, at_period_end=False)
    assert selectors.course_access(user=buyer, course=covered) is None


def test_subscription_change_plan_and_yearly_period(buyer):
    monthly = PlanFactory()
    yearly = PlanFactory(interval="year", price_minor=15_000)
    subscription = services.subscription_create(user=buyer, plan=monthly)
    assert subscription.status == "active"
    assert 28 <= (subscription.current_period_end - subscription.current_period_start).days <= 31
    services.subscription_change_plan(subscription=subscription, plan=yearly)
    subscription.refresh_from_db()
    assert subscription.plan == yearly
    with pytest.raises(ConflictError):
        services.subscription_change_plan(subscription=subscription, plan=yearly)


def test_staff_and_grants_have_access(buyer, course):
    staff = UserFactory(is_staff=True)
    assert selectors.course_access(user=staff, course=course) == "staff"
    enrollment_create(user=buyer, course=course, enrollment_type="gift")
    assert selectors.course_access(user=buyer, course=course) == "grant"


def test_revenue_by_month(buyer, course):
    order = services.order_create(user=buyer, course=course)
    _pay(order)
    services.refund_create(order=order, amount_minor=1_000)
    [row] = selectors.revenue_by_month()
    assert (row["gross"], row["refunded"], row["net"], row["orders"]) == (10_000, 1_000, 9_000, 1)
