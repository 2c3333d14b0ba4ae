"""Beat: dispatch due webhook deliveries every 5 seconds; expire bulk jobs daily."""

from django.db import migrations

from apps.core.schedules import schedule_every, unschedule

SCHEDULES = (
    ("integrations: dispatch webhook deliveries", "integrations.tasks.deliveries_dispatch", 5, "seconds"),
    ("integrations: expire bulk jobs", "integrations.tasks.bulk_jobs_expire", 1, "days"),
)


def forwards(apps, schema_editor):
    for name, task, every, period in SCHEDULES:
        schedule_every(apps, name=name, task=task, every=every, period=period)


def backwards(apps, schema_editor):
    for name, *_ in SCHEDULES:
        unschedule(apps, name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0002_webhook_outbox_trigger"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
