"""Lesson progress, quiz attempts and certificates see their enrollment through a correlated
EXISTS instead of `enrollment_id IN (SELECT ...)` (docs/adr/0017-row-level-security.md, "Cost";
apps.core.rls_sql.via_exists). Same rows; measured in docs/performance.md."""

from django.db import migrations

from apps.core.rls_sql import Via, via_exists

ENROLLMENT = Via("enrollment_id", '"progress"."enrollment"', "enrollment")
TABLES = [
    via_exists('"progress"."lesson_progress"', "lesson_progress", ENROLLMENT),
    via_exists('"progress"."quiz_attempt"', "quiz_attempt", ENROLLMENT),
    via_exists('"progress"."certificate"', "certificate", ENROLLMENT),
]


class Migration(migrations.Migration):
    dependencies = [("progress", "0006_rls_teaching_plpgsql")]
    operations = [migrations.RunSQL(forward, reverse) for forward, reverse in TABLES]
