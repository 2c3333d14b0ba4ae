"""Learners in name order (rosters, gradebooks): built CONCURRENTLY, so a large users table
keeps taking writes while it builds (docs/performance.md)."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("accounts", "0006_phone_index_db_default")]

    operations = [
        AddIndexConcurrently(
            model_name="user",
            index=models.Index(fields=["last_name", "first_name", "email"], name="user_name_order"),
        ),
    ]
