"""Module completion: the teacher dashboard's completion funnel from a materialized view.

The funnel (per module, the learners who completed every lesson of it) was a live query over
the course's lesson progress: at 20k learners x 50 lessons it read ~500k progress rows under
row-level security, 2.4-3.8 s per dashboard (docs/performance.md). `module_completion` keeps one
row per module of a course that is not deleted: its position and title, its lessons, and the
enrollments not dropped that completed all of them. A full refresh reads every completed
progress row once (~14 s at 10M rows); it runs every 15 minutes, like course_performance, which
gives the funnel's first step (enrolled, not dropped).

Also: analytics.refresh_view accepts the new name (same function as 0002, longer list), the
refresh run's view choices follow models.VIEWS, and beat gets a schedule for it.
"""

import importlib
import json

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from apps.core.schedules import schedule_every, unschedule

base = importlib.import_module("apps.analytics.migrations.0002_materialized_views")

NAME = "module_completion"
MINUTES = 15
SCHEDULE = f"analytics: refresh {NAME}"
BEFORE = list(base.VIEWS)  # the names refresh_view accepted until now
AFTER = [*BEFORE, NAME]

# MATERIALIZED: computed once; inlined, the planner ran the whole aggregate again in every
# parallel worker of the join with enrollments (32 s instead of 14 s at full scale).
QUERY = """
WITH sizes AS (
    SELECT l.module_id, count(*)::integer AS lessons
    FROM content.lesson l
    GROUP BY l.module_id
), done AS MATERIALIZED (
    SELECT lp.enrollment_id, l.module_id, count(*)::integer AS completed
    FROM progress.lesson_progress lp
    JOIN content.lesson l ON l.id = lp.lesson_id
    WHERE lp.completed_at IS NOT NULL
    GROUP BY lp.enrollment_id, l.module_id
), complete AS (
    SELECT d.module_id, count(*)::integer AS learners
    FROM done d
    JOIN sizes s ON s.module_id = d.module_id AND d.completed >= s.lessons
    JOIN progress.enrollment e ON e.id = d.enrollment_id AND e.status <> 'dropped'
    GROUP BY d.module_id
)
SELECT m.id AS module_id, m.course_id, m.position, m.title,
       coalesce(s.lessons, 0)::integer AS lessons,
       coalesce(c.learners, 0)::integer AS learners
FROM content.module m
JOIN content.course co ON co.id = m.course_id AND co.deleted_at IS NULL
LEFT JOIN sizes s ON s.module_id = m.id
LEFT JOIN complete c ON c.module_id = m.id
"""


def _names(names: list[str]) -> str:
    return ", ".join(f"'{name}'" for name in names)


def create(apps, schema_editor):
    app = base._quote(settings.DATABASE_APP_ROLE)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"CREATE MATERIALIZED VIEW analytics.{NAME} AS {QUERY} WITH DATA")
        cursor.execute(f"CREATE UNIQUE INDEX {NAME}_key ON analytics.{NAME} (module_id)")
        cursor.execute(f"CREATE INDEX {NAME}_idx1 ON analytics.{NAME} (course_id, position)")
        cursor.execute(f"REVOKE ALL ON analytics.{NAME} FROM PUBLIC, {app}")
        cursor.execute(f"GRANT SELECT ON analytics.{NAME} TO {app}")
        cursor.execute(base.REFRESH % {"names": _names(AFTER)})


def drop(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(base.REFRESH % {"names": _names(BEFORE)})
        cursor.execute(f"DROP MATERIALIZED VIEW IF EXISTS analytics.{NAME}")


def schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    schedule_every(
        apps, name=SCHEDULE, task="analytics.tasks.refresh_view", every=MINUTES, period="minutes"
    )
    PeriodicTask.objects.filter(name=SCHEDULE, args="[]").update(args=json.dumps([NAME]))


def remove_schedule(apps, schema_editor):
    unschedule(apps, name=SCHEDULE)


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0005_revenue_with_subscriptions"),
        ("content", "0001_initial"),
        ("progress", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="ModuleCompletion",
            fields=[
                (
                    "module",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="content.module",
                    ),
                ),
                ("position", models.IntegerField()),
                ("title", models.CharField(max_length=200)),
                ("lessons", models.IntegerField()),
                (
                    "learners",
                    models.IntegerField(
                        help_text="Learners (not dropped) who completed every lesson."
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "module completion",
                "db_table": 'analytics"."module_completion',
                "abstract": False,
                "managed": False,
            },
        ),
        migrations.RemoveConstraint(model_name="refreshrun", name="refresh_run_view"),
        migrations.AlterField(
            model_name="refreshrun",
            name="view",
            field=models.CharField(
                choices=[
                    ("user_activity_daily", "user_activity_daily"),
                    ("enrollment_trends", "enrollment_trends"),
                    ("course_performance", "course_performance"),
                    ("module_completion", "module_completion"),
                    ("lesson_statistics", "lesson_statistics"),
                    ("quiz_item_statistics", "quiz_item_statistics"),
                    ("revenue_summary", "revenue_summary"),
                ],
                max_length=63,
            ),
        ),
        migrations.AddConstraint(
            model_name="refreshrun",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "view__in",
                        [
                            "user_activity_daily",
                            "enrollment_trends",
                            "course_performance",
                            "module_completion",
                            "lesson_statistics",
                            "quiz_item_statistics",
                            "revenue_summary",
                        ],
                    )
                ),
                name="refresh_run_view",
            ),
        ),
        migrations.RunPython(create, drop),
        migrations.RunPython(schedule, remove_schedule),
    ]
