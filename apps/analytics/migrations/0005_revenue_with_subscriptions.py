"""Revenue summary with subscription revenue: paid orders by UTC month, source, course category
and currency.

`source` is "course" for orders that buy a course (by its category, as in 0004) and
"subscription" for orders that bill a subscription period or a plan change (billing 0005: order
lines of kind plan_period, proration, credit), under the zero category UUID since a plan spans
categories. `orders`, `gross_minor` (tax included) and `refunded_minor` as in 0004.
"""

import importlib

from django.conf import settings
from django.db import migrations

previous = importlib.import_module("apps.analytics.migrations.0004_revenue_from_billing")
NO_CATEGORY = previous.NO_CATEGORY

REVENUE = f"""
SELECT (date_trunc('month', o.paid_at AT TIME ZONE 'UTC'))::date AS month,
       (CASE WHEN line.course_id IS NULL THEN 'subscription' ELSE 'course' END)::varchar(12)
           AS source,
       COALESCE(c.category_id, '{NO_CATEGORY}'::uuid) AS category_id,
       o.currency::varchar(3) AS currency,
       count(*)::integer AS orders,
       sum(o.total_minor)::bigint AS gross_minor,
       sum(o.refunded_minor)::bigint AS refunded_minor
FROM billing."order" o
LEFT JOIN LATERAL (
    SELECT l.course_id FROM billing.order_line l
    WHERE l.order_id = o.id AND l.kind = 'course'
    ORDER BY l.course_id LIMIT 1
) line ON true
LEFT JOIN content.course c ON c.id = line.course_id
WHERE o.paid_at IS NOT NULL AND o.status IN ('paid', 'partially_refunded', 'refunded')
GROUP BY 1, 2, 3, 4
"""


def _replace(query: str, key: str):
    def run(apps, schema_editor):
        app = previous._quote(settings.DATABASE_APP_ROLE)
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("DROP MATERIALIZED VIEW analytics.revenue_summary")
            cursor.execute(
                f"CREATE MATERIALIZED VIEW analytics.revenue_summary AS {query} WITH DATA"
            )
            cursor.execute(
                f"CREATE UNIQUE INDEX revenue_summary_key ON analytics.revenue_summary ({key})"
            )
            cursor.execute(f"REVOKE ALL ON analytics.revenue_summary FROM PUBLIC, {app}")
            cursor.execute(f"GRANT SELECT ON analytics.revenue_summary TO {app}")

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0004_revenue_from_billing"),
        ("billing", "0005_subscription_billing"),
    ]
    operations = [
        migrations.RunPython(
            _replace(REVENUE, "month, source, category_id, currency"),
            _replace(previous.REVENUE, "month, category_id, currency"),
        )
    ]
