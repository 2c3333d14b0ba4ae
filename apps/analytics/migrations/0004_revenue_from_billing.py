"""Revenue summary from billing: paid orders by UTC month, course category and currency.

`orders` counts paid orders (refunded ones included: they were sold), `gross_minor` is what
buyers paid (tax included) and `refunded_minor` what went back, in minor units. Orders are for
one course each (ADR 0013), so each order has one category; courses without one count under the
zero UUID so the view keeps a unique key without NULLs (REFRESH CONCURRENTLY needs one).
"""

from django.conf import settings
from django.db import migrations

NO_CATEGORY = "00000000-0000-0000-0000-000000000000"

REVENUE = f"""
SELECT (date_trunc('month', o.paid_at AT TIME ZONE 'UTC'))::date AS month,
       COALESCE(c.category_id, '{NO_CATEGORY}'::uuid) AS category_id,
       o.currency::varchar(3) AS currency,
       count(*)::integer AS orders,
       sum(o.total_minor)::bigint AS gross_minor,
       sum(o.refunded_minor)::bigint AS refunded_minor
FROM billing."order" o
JOIN LATERAL (
    SELECT l.course_id FROM billing.order_line l WHERE l.order_id = o.id
    ORDER BY l.course_id LIMIT 1
) line ON true
JOIN content.course c ON c.id = line.course_id
WHERE o.paid_at IS NOT NULL AND o.status IN ('paid', 'partially_refunded', 'refunded')
GROUP BY 1, 2, 3
"""

EMPTY = """
SELECT NULL::date AS month, NULL::uuid AS category_id, NULL::varchar(3) AS currency,
       0::integer AS orders, 0::bigint AS gross_minor
WHERE false
"""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _replace(query: str):
    def run(apps, schema_editor):
        app = _quote(settings.DATABASE_APP_ROLE)
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("DROP MATERIALIZED VIEW analytics.revenue_summary")
            cursor.execute(f"CREATE MATERIALIZED VIEW analytics.revenue_summary AS {query} WITH DATA")
            cursor.execute(
                "CREATE UNIQUE INDEX revenue_summary_key "
                "ON analytics.revenue_summary (month, category_id, currency)"
            )
            cursor.execute(f"REVOKE ALL ON analytics.revenue_summary FROM PUBLIC, {app}")
            cursor.execute(f"GRANT SELECT ON analytics.revenue_summary TO {app}")

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0003_refresh_schedules"),
        ("billing", "0001_initial"),
    ]
    operations = [migrations.RunPython(_replace(REVENUE), _replace(EMPTY))]
