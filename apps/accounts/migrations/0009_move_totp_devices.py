"""Move django-otp's TOTP devices into accounts.totp_device, sealing each secret (ADR 0016).

django-otp's `otp_totp` app is no longer installed: its table kept the shared secrets as
plaintext hex. Every device is copied with its secret encrypted under the current key (counters,
drift, throttling and timestamps kept, so no one enrols again and a used code stays used), then
the old table is dropped, with the data files that held the plaintext, and its migration records
are removed (re-installing the app would create a fresh, empty table). A database created after
this change never had the table: nothing to move.

Not reversible: the plaintext table is not recreated.
"""

from django.db import migrations

from apps.core import crypto

OLD_TABLE = "public.otp_totp_totpdevice"
COLUMNS = (
    "user_id",
    "name",
    "confirmed",
    "step",
    "t0",
    "digits",
    "tolerance",
    "drift",
    "last_t",
    "throttling_failure_timestamp",
    "throttling_failure_count",
    "created_at",
    "last_used_at",
)


def move_devices(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [OLD_TABLE])
        if cursor.fetchone()[0] is None:
            return
        cursor.execute(f"SELECT key, {', '.join(COLUMNS)} FROM {OLD_TABLE} ORDER BY id")  # noqa: S608
        rows = cursor.fetchall()
        placeholders = ", ".join(["%s"] * (len(COLUMNS) + 1))
        for key, *rest in rows:
            cursor.execute(
                f'INSERT INTO "accounts"."totp_device" (key, {", ".join(COLUMNS)}) '  # noqa: S608
                f"VALUES ({placeholders})",
                [crypto.encrypt(key), *rest],
            )
        cursor.execute(f"DROP TABLE {OLD_TABLE}")
        cursor.execute("DELETE FROM django_migrations WHERE app = 'otp_totp'")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_totp_device"),
    ]

    operations = [
        migrations.RunPython(move_devices, elidable=False),
    ]
