import pytest

from apps.billing.models import Coupon, Invoice, Order, Plan, Subscription
from apps.billing.selectors import course_access
from apps.demo.services import demo_seed

pytestmark = pytest.mark.django_db


def test_demo_seed_creates_billing_data_once():
    demo_seed()
    demo_seed()
    student_orders = Order.objects.filter(user__email="student@lyceum.test")
    assert sorted(student_orders.values_list("status", flat=True)) == ["paid", "refunded"]
    assert Plan.objects.filter(slug="all-access-monthly").count() == 1
    assert Coupon.objects.filter(code="WELCOME10").count() == 1


def test_the_demo_subscriber_has_a_billed_subscription_and_a_course_through_it():
    demo_seed()
    demo_seed()
    subscription = Subscription.objects.get(user__email="subscriber@lyceum.test")
    assert subscription.status == "active" and subscription.coupon.code == "PLAN20"
    order = Order.objects.get(user=subscription.user)
    assert order.status == "paid" and order.discount_minor == 380  # 20% of 19.00
    assert order.lines.get().kind == "plan_period"
    assert Invoice.objects.filter(order=order).exists()
    courses = list(subscription.plan.courses.all())
    assert courses and all(c.access_type == "subscription" for c in courses)
    assert {course_access(user=subscription.user, course=c) for c in courses} == {"subscription"}
