"""The billing admin's partial refund: an amount in major units, refused above what is left."""

import pytest

from apps.billing import services
from apps.billing.models import Refund

pytestmark = pytest.mark.django_db


def test_staff_refund_part_of_an_order(verified_staff_client, buyer, course):
    order = services.order_create(user=buyer, course=course)
    services.order_pay(order=order, provider="manual", idempotency_key="admin-partial")
    url = "/admin/billing/order/"
    chosen = {"action": "refund_part", "_selected_action": [str(order.pk)]}
    form = verified_staff_client.post(url, chosen)
    assert form.status_code == 200 and b"refund-amount" in form.content
    too_much = verified_staff_client.post(url, {**chosen, "apply": "1", "amount": "100.01"})
    assert b"left to refund" in too_much.content and not Refund.objects.exists()
    garbage = verified_staff_client.post(url, {**chosen, "apply": "1", "amount": "1.005"})
    assert b"such as 12.50" in garbage.content
    done = verified_staff_client.post(
        url, {**chosen, "apply": "1", "amount": "25.50", "reason": "late"}
    )
    assert done.status_code == 302
    order.refresh_from_db()
    assert order.status == "partially_refunded" and order.refunded_minor == 2_550
    assert Refund.objects.get().reason == "late"
