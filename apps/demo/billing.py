"""Demo billing data: a monthly plan, a coupon, one paid order and one refunded order of the
demo student for paid demo courses. Idempotent: what exists (by slug, code, or the student's
order for the course) is left alone. Writes only through billing's services."""

from apps.billing.models import Coupon, Order, Plan
from apps.billing.services import order_create, order_pay, refund_create
from apps.content.models import AccessType, Course, CourseStatus


def demo_billing_seed(*, student) -> int:
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
    return created
