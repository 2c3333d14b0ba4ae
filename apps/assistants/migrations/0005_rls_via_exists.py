"""Messages see their conversation through a correlated EXISTS instead of
`conversation_id IN (SELECT ...)` (docs/adr/0017-row-level-security.md, "Cost";
apps.core.rls_sql.via_exists). Same rows."""

from django.db import migrations

from apps.core.rls_sql import Via, via_exists

TABLES = [
    via_exists(
        '"assistants"."message"',
        "message",
        Via("conversation_id", '"assistants"."conversation"', "conversation"),
    ),
]


class Migration(migrations.Migration):
    dependencies = [("assistants", "0004_row_level_security")]
    operations = [migrations.RunSQL(forward, reverse) for forward, reverse in TABLES]
