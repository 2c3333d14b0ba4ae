"""Schedule core.tasks.heartbeat every 30 seconds (editable afterwards in admin)."""

from django.db import migrations
from django.utils import timezone

TASK_NAME = "core: worker heartbeat"


def schedule_heartbeat(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    interval, _ = IntervalSchedule.objects.get_or_create(every=30, period="seconds")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={"task": "core.tasks.heartbeat", "interval": interval, "enabled": True},
    )
    # Tell a running beat that the schedule changed (what PeriodicTask.save() does normally).
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def unschedule_heartbeat(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_workerheartbeat"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(schedule_heartbeat, unschedule_heartbeat)]
