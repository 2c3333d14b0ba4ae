"""Archive activity partitions past the retention period, daily."""

from django.db import migrations

from apps.core.schedules import schedule_every, unschedule

NAME = "progress: archive old activity partitions"


def forwards(apps, schema_editor):
    schedule_every(apps, name=NAME, task="progress.tasks.archive_old_activity", every=1,
                   period="days")


def backwards(apps, schema_editor):
    unschedule(apps, name=NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("progress", "0002_attempt_run"),
        ("core", "0005_partitions_schedule"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
