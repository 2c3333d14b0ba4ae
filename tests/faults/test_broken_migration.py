"""A migration that fails halfway leaves the schema as it was (transactional DDL)."""

import pytest
from django.db import DatabaseError, connection, migrations, models
from django.db.migrations.state import ProjectState

pytestmark = pytest.mark.django_db(transaction=True)


class BrokenMigration(migrations.Migration):
    """A throwaway app's migration: creates a table and an index, then fails."""

    atomic = True
    operations = [
        migrations.CreateModel(
            "Thing",
            [("id", models.AutoField(primary_key=True)), ("name", models.TextField())],
            options={"db_table": 'content"."faults_thing'},
        ),
        migrations.RunSQL('CREATE INDEX faults_thing_name ON "content"."faults_thing" (name)'),
        migrations.RunSQL("SELECT 1 / 0"),
    ]


def test_a_migration_failing_halfway_changes_nothing():
    migration = BrokenMigration("0001_broken", "faults")
    with (
        pytest.raises(DatabaseError, match="division by zero"),
        connection.schema_editor(atomic=migration.atomic) as editor,
    ):
        migration.apply(ProjectState(), editor)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT to_regclass('content.faults_thing'), to_regclass('content.faults_thing_name')"
        )
        assert cursor.fetchone() == (None, None)
