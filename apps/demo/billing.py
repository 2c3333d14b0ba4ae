"""Demo billing data: a monthly plan covering the subscription courses, a course coupon and a
plan coupon, one paid order and one refunded order of the demo student for paid demo courses,
and the demo subscriber: subscribed with the plan coupon and the first paid period renewed
(order, payment, invoice), so the subscription courses are open to them. Idempotent: what
exists (by slug, code, the student's order for the course, the subscriber's subscription) is
left alone. Writes only through billing's services (plan and coupons are staff-made data)."""

from apps.billing.models import Coupon, Order, Plan, Subscription
from apps.billing.services import (
    order_create,
    order_pay,
    refund_create,
    subscription_create,
    subscription_renew,
)
from apps.content.models import AccessType, Course, CourseStatus

PLAN_COUPON = "PLAN20"


def demo_billing_seed(*, student, subscriber) -> int:
    """Returns rows created."""
    created = 0
    if not Plan.objects.filter(slug="all-access-monthly").exists():
        Plan.objects.create(
            name="All access (monthly)",
            slug="all-access-monthly",
            interval="month",
            price_minor=1_900,
            currency="USD",
            trial_days=7,
        )
        created += 1
    plan = Plan.objects.get(slug="all-access-monthly")
    plan.courses.add(
        *Course.objects.filter(
            access_type=AccessType.SUBSCRIPTION, status=CourseStatus.PUBLISHED
        ).order_by("slug")
    )
    if not Coupon.objects.filter(code__iexact="WELCOME10").exists():
        Coupon.objects.create(code="WELCOME10", kind="percent", percent_off=10, per_user_limit=1)
        created += 1
    paid = list(
        Course.objects.filter(
            access_type=AccessType.PAID, status=CourseStatus.PUBLISHED, max_enrollments__isnull=True
        ).order_by("slug")[:2]
    )
    for index, course in enumerate(paid):
        if Order.objects.filter(user=student, lines__course=course).exists():
            continue
        order = order_create(user=student, course=course, country="US")
        order_pay(order=order, provider="manual", idempotency_key=f"demo:{order.pk}")
        if index == 1:
            refund_create(order=order, reason="demo: changed their mind")
        created += 1
    created += _demo_subscriber(subscriber=subscriber, plan=plan)
    return created


def _demo_subscriber(*, subscriber, plan: Plan) -> int:
    created = 0
    if not Coupon.objects.filter(code__iexact=PLAN_COUPON).exists():
        coupon = Coupon.objects.create(
            code=PLAN_COUPON, kind="percent", percent_off=20, per_user_limit=1, plan_periods=1
        )
        coupon.plans.add(plan)
        created += 1
    if Subscription.objects.filter(user=subscriber).exists():
        return created
    subscription = subscription_create(
        user=subscriber, plan=plan, provider="manual", coupon_code=PLAN_COUPON
    )
    # The bank transfer for the first period after the trial arrived: order, payment, invoice.
    subscription_renew(subscription=subscription)
    return created + 1
