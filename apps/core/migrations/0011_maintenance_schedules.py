"""Maintenance on beat: ANALYZE big tables that changed (hourly), expired sessions and tokens
(daily). Partition creation (core 0005) and retention (audit, progress) are scheduled already."""

from django.db import migrations

from apps.core.schedules import schedule_every, unschedule

SCHEDULES = [
    ("core: analyze big tables after bulk changes", "core.tasks.analyze_tables", 1, "hours"),
    ("core: clear expired sessions", "core.tasks.clear_sessions", 1, "days"),
    ("core: clear expired tokens", "core.tasks.clear_tokens", 1, "days"),
]


def forwards(apps, schema_editor):
    for name, task, every, period in SCHEDULES:
        schedule_every(apps, name=name, task=task, every=every, period=period)


def backwards(apps, schema_editor):
    for name, *_ in SCHEDULES:
        unschedule(apps, name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0010_pg_stat_statements_and_analyze"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
