"""Order lines, payments, refunds and invoices see their order through a correlated EXISTS
instead of `order_id IN (SELECT ...)` (docs/adr/0017-row-level-security.md, "Cost";
apps.core.rls_sql.via_exists). Same rows."""

from django.db import migrations

from apps.core.rls_sql import Via, via_exists

ORDER = Via("order_id", '"billing"."order"', "order")
TABLES = [
    via_exists('"billing"."order_line"', "order_line", ORDER),
    via_exists('"billing"."payment"', "payment", ORDER),
    via_exists('"billing"."refund"', "refund", ORDER),
    via_exists('"billing"."invoice"', "invoice", ORDER),
]


class Migration(migrations.Migration):
    dependencies = [("billing", "0003_row_level_security")]
    operations = [migrations.RunSQL(forward, reverse) for forward, reverse in TABLES]
