"""Reads owned by billing: access to paid courses, a user's orders and invoices, plans,
subscriptions and revenue."""

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from apps.billing.models import (
    ACCESS_SUBSCRIPTION_STATUSES,
    LIVE_SUBSCRIPTION_STATUSES,
    Invoice,
    Order,
    OrderStatus,
    Plan,
    Subscription,
)
from apps.content.models import AccessType, Course
from apps.progress.models import Enrollment, EnrollmentStatus, EnrollmentType

PAID_STATUSES = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED)


def course_paid_by(*, user, course: Course) -> bool:
    """Whether `user` holds a paid (and not fully refunded) order for `course`."""
    if not getattr(user, "is_authenticated", False):
        return False
    return Order.objects.filter(user=user, status__in=PAID_STATUSES, lines__course=course).exists()


def subscription_live(*, user) -> Subscription | None:
    """The user's trialing, active or past-due subscription, if any."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Subscription.objects.select_related("plan")
        .filter(user=user, status__in=LIVE_SUBSCRIPTION_STATUSES)
        .first()
    )


def plan_unlocks(*, plan: Plan, course: Course) -> bool:
    """Whether `plan` covers `course`: listed, or in one of its categories (or below)."""
    if plan.courses.filter(pk=course.pk).exists():
        return True
    if course.category_id is None:
        return False
    ancestors = set(course.category.ancestor_ids or [course.category_id])
    return plan.categories.filter(pk__in=ancestors).exists()


def course_access(*, user, course: Course) -> str | None:
    """Why `user` may open `course`, or None: "free", "staff", "purchase", "subscription" or
    "grant" (a gift or trial enrollment given by staff). A paid course is never open without a
    paid order, a trialing/active subscription that covers it, or a staff grant."""
    if course.access_type == AccessType.FREE:
        return "free"
    if not getattr(user, "is_authenticated", False):
        return None
    if user.is_staff:
        return "staff"
    if course_paid_by(user=user, course=course):
        return "purchase"
    subscription = subscription_live(user=user)
    if (
        subscription is not None
        and subscription.status in ACCESS_SUBSCRIPTION_STATUSES
        and subscription.current_period_end > timezone.now()
        and plan_unlocks(plan=subscription.plan, course=course)
    ):
        return "subscription"
    if Enrollment.objects.filter(
        user=user,
        course=course,
        enrollment_type__in=(EnrollmentType.GIFT, EnrollmentType.TRIAL),
        status__in=(EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED),
    ).exists():
        return "grant"
    return None


def my_orders(*, user) -> QuerySet[Order]:
    """The user's orders, newest first, with lines, courses and invoice loaded."""
    return (
        Order.objects.filter(user=user)
        .select_related("invoice", "coupon")
        .prefetch_related("lines__course")
        .order_by("-created_at")
    )


def subscription_unpaid_orders(*, subscription: Subscription) -> QuerySet[Order]:
    """The subscription's orders still to pay (a manual first period, a plan change's
    difference), oldest first."""
    return (
        Order.objects.filter(
            lines__subscription=subscription,
            status__in=(OrderStatus.PENDING, OrderStatus.FAILED),
        )
        .distinct()
        .prefetch_related("lines")
        .order_by("created_at")
    )


def my_invoices(*, user) -> QuerySet[Invoice]:
    return Invoice.objects.filter(order__user=user).select_related("order")


def plans_active() -> QuerySet[Plan]:
    return Plan.objects.filter(is_active=True).prefetch_related("courses", "categories")


def revenue_by_month(*, currency: str | None = None) -> list[dict]:
    """Revenue per month and currency: gross paid, refunded, net and order count."""
    orders = Order.objects.filter(paid_at__isnull=False)
    if currency:
        orders = orders.filter(currency=currency)
    rows = (
        orders.annotate(month=TruncMonth("paid_at"))
        .values("month", "currency")
        .annotate(gross=Sum("total_minor"), refunded=Sum("refunded_minor"), orders=Count("id"))
        .order_by("-month", "currency")
    )
    return [{**row, "net": row["gross"] - row["refunded"]} for row in rows]
