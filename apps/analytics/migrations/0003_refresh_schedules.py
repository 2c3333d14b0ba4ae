"""One beat schedule per materialized view (refresh intervals editable in admin), and the hourly
expiry of export files."""

import json

from django.db import migrations

from apps.core.schedules import schedule_every, unschedule

# view -> minutes between refreshes (a copy: migrations do not follow later model changes).
VIEWS = {
    "user_activity_daily": 15,
    "enrollment_trends": 60,
    "course_performance": 15,
    "lesson_statistics": 60,
    "quiz_item_statistics": 60,
    "revenue_summary": 24 * 60,
}
EXPIRE = "analytics: expire export files"


def schedule_name(view: str) -> str:
    return f"analytics: refresh {view}"


def forwards(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for view, minutes in VIEWS.items():
        name = schedule_name(view)
        schedule_every(
            apps, name=name, task="analytics.tasks.refresh_view", every=minutes, period="minutes"
        )
        # schedule_every creates the task without arguments; name the view (kept if edited).
        PeriodicTask.objects.filter(name=name, args="[]").update(args=json.dumps([view]))
    schedule_every(apps, name=EXPIRE, task="analytics.tasks.exports_expire", every=1,
                   period="hours")


def backwards(apps, schema_editor):
    for view in VIEWS:
        unschedule(apps, name=schedule_name(view))
    unschedule(apps, name=EXPIRE)


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0002_materialized_views"),
        ("core", "0005_partitions_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
