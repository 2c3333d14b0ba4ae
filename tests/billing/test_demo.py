import pytest

from apps.billing.models import Coupon, Order, Plan
from apps.demo.services import demo_seed

pytestmark = pytest.mark.django_db


def test_demo_seed_creates_billing_data_once():
    demo_seed()
    demo_seed()
    statuses = sorted(Order.objects.values_list("status", flat=True))
    assert statuses == ["paid", "refunded"]
    assert Plan.objects.filter(slug="all-access-monthly").count() == 1
    assert Coupon.objects.filter(code="WELCOME10").count() == 1
