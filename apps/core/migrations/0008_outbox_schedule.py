"""Relay the outbox every 30 seconds."""

from django.db import migrations

from apps.core.schedules import schedule_every, unschedule

NAME = "core: relay unsent tasks"


def forwards(apps, schema_editor):
    schedule_every(apps, name=NAME, task="core.tasks.outbox_relay", every=30, period="seconds")


def backwards(apps, schema_editor):
    unschedule(apps, name=NAME)


class Migration(migrations.Migration):
    dependencies = [("core", "0007_taskoutbox")]
    operations = [migrations.RunPython(forwards, backwards)]
