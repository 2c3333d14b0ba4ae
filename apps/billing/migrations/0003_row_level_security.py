"""Row-level security on orders, their lines, payments, refunds and invoices, and subscriptions
(docs/adr/0017-row-level-security.md).

- order, subscription: the buyer (user_id), staff holding billing.view globally, the system.
- order_line, payment, refund, invoice: whoever sees the order (the order's own policies apply
  inside the sub-select), staff, the system.

Instructors get nothing here: what a learner paid is not part of teaching a course (course
revenue reaches teachers only as the analytics aggregates). Coupon redemptions stay
unprotected: the coupon limits count every buyer's redemptions, and a redemption holds no more
than the order id and the coupon.
"""

from django.db import migrations

from apps.core.rls_sql import Via, protect

ORDER = Via("order_id", '"billing"."order"', "order")
TABLES = [
    protect('"billing"."order"', "billing_order", staff_permission="billing.view", owner="user_id"),
    protect('"billing"."order_line"', "order_line", staff_permission="billing.view", via=ORDER),
    protect('"billing"."payment"', "payment", staff_permission="billing.view", via=ORDER),
    protect('"billing"."refund"', "refund", staff_permission="billing.view", via=ORDER),
    protect('"billing"."invoice"', "invoice", staff_permission="billing.view", via=ORDER),
    protect(
        '"billing"."subscription"',
        "subscription",
        staff_permission="billing.view",
        owner="user_id",
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_expiry_schedule"),
        ("rbac", "0003_row_level_security"),
    ]
    operations = [migrations.RunSQL(forward, reverse) for forward, reverse in TABLES]
