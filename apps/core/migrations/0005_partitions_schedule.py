"""Create monthly partitions ahead of need, every 12 hours."""

from django.db import migrations

from apps.core.schedules import schedule_every, unschedule

NAME = "core: create monthly partitions ahead"


def forwards(apps, schema_editor):
    schedule_every(apps, name=NAME, task="core.tasks.partitions_ensure", every=12, period="hours")


def backwards(apps, schema_editor):
    unschedule(apps, name=NAME)


class Migration(migrations.Migration):
    dependencies = [("core", "0004_partition_functions")]
    operations = [migrations.RunPython(forwards, backwards)]
