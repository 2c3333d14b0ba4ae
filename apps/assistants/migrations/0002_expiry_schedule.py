"""Expire memories and trim memory interactions every hour."""

from django.db import migrations

from apps.core.schedules import schedule_every, unschedule

NAME = "assistants: expire memories, trim interactions"


def forwards(apps, schema_editor):
    schedule_every(
        apps, name=NAME, task="assistants.tasks.expire_memories", every=1, period="hours"
    )


def backwards(apps, schema_editor):
    unschedule(apps, name=NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("assistants", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
