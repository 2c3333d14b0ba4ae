"""Blind indexes name their key: "<key id>:<hex>" (ADR 0016, blind-index key rotation).

The column grows to 97 characters (a 32-character key id, ':', 64 hex digits; PostgreSQL widens
a varchar without rewriting the table), and every phone's index is recomputed from its
plaintext under the current blind-index key, so each row says which key made it and
`rotate_blind_index_keys` can move them to a new one. `updated_at` is left alone: re-indexing is
not an edit. (The field's default length became 97, so the historical state already says so and
the column is widened here by SQL.)
"""

import pgtrigger
from django.db import migrations

from apps.core import crypto

PURPOSE = "accounts.user.phone"


def recompute_phone_indexes(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("""SELECT id, phone FROM "accounts"."user" WHERE phone <> '' ORDER BY id""")
        rows = cursor.fetchall()
        with pgtrigger.ignore("accounts.User:set_updated_at"):
            for pk, sealed in rows:
                index = crypto.blind_index(crypto.decrypt(sealed), purpose=PURPOSE)
                cursor.execute(
                    """UPDATE "accounts"."user" SET phone_index = %s WHERE id = %s""", [index, pk]
                )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_move_totp_devices"),
    ]

    operations = [
        migrations.RunSQL(
            """ALTER TABLE "accounts"."user" ALTER COLUMN phone_index TYPE varchar(97)""",
            migrations.RunSQL.noop,
        ),
        migrations.RunPython(recompute_phone_indexes, migrations.RunPython.noop),
    ]
