"""Expire subscriptions past their period end every 15 minutes."""

from django.db import migrations

from apps.core.schedules import schedule_every, unschedule

NAME = "billing: expire subscriptions past their period"


def forwards(apps, schema_editor):
    schedule_every(
        apps, name=NAME, task="billing.tasks.expire_subscriptions", every=15, period="minutes"
    )


def backwards(apps, schema_editor):
    unschedule(apps, name=NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
