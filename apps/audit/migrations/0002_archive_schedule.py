"""Archive domain-event partitions past the retention period, daily."""

from django.db import migrations

from apps.core.schedules import schedule_every, unschedule

NAME = "audit: archive old domain-event partitions"


def forwards(apps, schema_editor):
    schedule_every(
        apps, name=NAME, task="audit.tasks.archive_old_partitions", every=1, period="days"
    )


def backwards(apps, schema_editor):
    unschedule(apps, name=NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("core", "0005_partitions_schedule"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
