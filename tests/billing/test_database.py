"""The database keeps the money rules on its own: raw SQL that breaks them is refused."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.utils import InternalError, ProgrammingError

from apps.billing import services
from apps.billing.models import Coupon, Invoice
from tests.billing.factories import CouponFactory

pytestmark = pytest.mark.django_db


def _sql(sql, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def _refused(sql, params=(), constraint=""):
    with pytest.raises((IntegrityError, InternalError, ProgrammingError)) as error:
        _sql(sql, params)
    assert constraint in str(error.value)


@pytest.fixture
def paid_order(buyer, course):
    order = services.order_create(user=buyer, course=course)
    services.order_pay(order=order, provider="manual", idempotency_key="k")
    order.refresh_from_db()
    return order


def test_coupon_code_is_unique_case_insensitively():
    CouponFactory(code="Spring25")
    with pytest.raises(IntegrityError, match="coupon_code_ci_unique"), transaction.atomic():
        CouponFactory(code="SPRING25")


def test_coupon_counter_cannot_pass_its_maximum():
    coupon = CouponFactory(max_redemptions=2)
    _sql('UPDATE "billing"."coupon" SET times_redeemed = 2 WHERE id = %s', [coupon.pk])
    _refused(
        'UPDATE "billing"."coupon" SET times_redeemed = 3 WHERE id = %s',
        [coupon.pk],
        "coupon_redemptions_lte_max",
    )
    assert Coupon.objects.get(pk=coupon.pk).times_redeemed == 2


def test_order_totals_must_be_consistent(paid_order):
    _refused(
        'UPDATE "billing"."order" SET total_minor = total_minor + 1 WHERE id = %s',
        [paid_order.pk],
        "order_total_consistent",
    )
    _refused(
        'UPDATE "billing"."order" SET discount_minor = subtotal_minor + 1 WHERE id = %s',
        [paid_order.pk],
        "order_discount_lte_subtotal",
    )


def test_order_subtotal_must_be_the_sum_of_its_lines(paid_order):
    with (
        pytest.raises(IntegrityError, match="order_lines_sum"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            'UPDATE "billing"."order_line" SET amount_minor = amount_minor + 5 WHERE order_id = %s',
            [paid_order.pk],
        )
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.mark.parametrize("target", ["pending", "failed", "cancelled"])
def test_a_paid_order_cannot_go_back(paid_order, target):
    _refused(
        'UPDATE "billing"."order" SET status = %s WHERE id = %s',
        [target, paid_order.pk],
        "order_status_transition",
    )


def test_refunds_cannot_exceed_what_was_paid(paid_order):
    payment = paid_order.payments.get()
    insert = (
        'INSERT INTO "billing"."refund" (id, order_id, payment_id, amount_minor, reason, '
        "provider_reference, created_at, updated_at) "
        "VALUES (gen_random_uuid(), %s, %s, %s, '', '', now(), now())"
    )
    _sql(insert, [paid_order.pk, payment.pk, paid_order.total_minor - 1])
    _refused(insert, [paid_order.pk, payment.pk, 2], "refund_not_above_paid")


def test_invoices_are_numbered_by_the_database_and_never_deleted(paid_order):
    invoice = paid_order.invoice
    _refused(
        'UPDATE "billing"."invoice" SET number = number + 10 WHERE id = %s',
        [invoice.pk],
        "Cannot update rows from invoice",
    )
    _refused('DELETE FROM "billing"."invoice" WHERE id = %s', [invoice.pk], "Cannot delete rows")
    assert Invoice.objects.get(pk=invoice.pk).number == invoice.number


def test_one_succeeded_payment_per_order(paid_order):
    _refused(
        'INSERT INTO "billing"."payment" (id, order_id, provider, provider_reference, '
        "amount_minor, currency, status, raw_payload, idempotency_key, created_at, updated_at) "
        "VALUES (gen_random_uuid(), %s, 'manual', '', 1, 'USD', 'succeeded', '{}', 'other', "
        "now(), now())",
        [paid_order.pk],
        "payment_one_success_per_order",
    )
