"""A subscription enrollment type (billing enrolls subscribers with it). The history trigger's
WHEN clause names the column, so it is dropped and recreated around the type change."""

from django.conf import settings
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('content', '0001_initial'),
        ('progress', '0003_archive_schedule'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name='enrollment',
            name='update_update',
        ),
        migrations.RemoveConstraint(
            model_name='enrollment',
            name='enrollment_type',
        ),
        migrations.AlterField(
            model_name='enrollment',
            name='enrollment_type',
            field=models.CharField(choices=[('free', 'Free'), ('paid', 'Paid'), ('trial', 'Trial'), ('gift', 'Gift'), ('subscription', 'Subscription')], default='free', max_length=12),
        ),
        migrations.AlterField(
            model_name='enrollmentevent',
            name='enrollment_type',
            field=models.CharField(choices=[('free', 'Free'), ('paid', 'Paid'), ('trial', 'Trial'), ('gift', 'Gift'), ('subscription', 'Subscription')], default='free', max_length=12),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='enrollment',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD."achievements" IS DISTINCT FROM (NEW."achievements") OR OLD."assignments_completed" IS DISTINCT FROM (NEW."assignments_completed") OR OLD."average_quiz_score" IS DISTINCT FROM (NEW."average_quiz_score") OR OLD."certificate_issued" IS DISTINCT FROM (NEW."certificate_issued") OR OLD."completed_at" IS DISTINCT FROM (NEW."completed_at") OR OLD."completed_lessons" IS DISTINCT FROM (NEW."completed_lessons") OR OLD."course_id" IS DISTINCT FROM (NEW."course_id") OR OLD."dropped_at" IS DISTINCT FROM (NEW."dropped_at") OR OLD."enrollment_type" IS DISTINCT FROM (NEW."enrollment_type") OR OLD."id" IS DISTINCT FROM (NEW."id") OR OLD."last_accessed_at" IS DISTINCT FROM (NEW."last_accessed_at") OR OLD."progress_percent" IS DISTINCT FROM (NEW."progress_percent") OR OLD."run" IS DISTINCT FROM (NEW."run") OR OLD."started_at" IS DISTINCT FROM (NEW."started_at") OR OLD."status" IS DISTINCT FROM (NEW."status") OR OLD."study_time_seconds" IS DISTINCT FROM (NEW."study_time_seconds") OR OLD."total_lessons" IS DISTINCT FROM (NEW."total_lessons") OR OLD."user_id" IS DISTINCT FROM (NEW."user_id"))', func='INSERT INTO "audit"."progress_enrollment_event" ("achievements", "assignments_completed", "average_quiz_score", "certificate_issued", "completed_at", "completed_lessons", "course_id", "created_at", "dropped_at", "enrollment_type", "id", "last_accessed_at", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "progress_percent", "run", "started_at", "status", "study_time_seconds", "total_lessons", "updated_at", "user_id") VALUES (NEW."achievements", NEW."assignments_completed", NEW."average_quiz_score", NEW."certificate_issued", NEW."completed_at", NEW."completed_lessons", NEW."course_id", NEW."created_at", NEW."dropped_at", NEW."enrollment_type", NEW."id", NEW."last_accessed_at", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."progress_percent", NEW."run", NEW."started_at", NEW."status", NEW."study_time_seconds", NEW."total_lessons", NEW."updated_at", NEW."user_id"); RETURN NULL;', hash='03f6c5b816419f6bbcbf37bf742dd112d6a9a24c', operation='UPDATE', pgid='pgtrigger_update_update_d20f3', table='progress"."enrollment', when='AFTER')),
        ),
        migrations.AddConstraint(
            model_name='enrollment',
            constraint=models.CheckConstraint(condition=models.Q(('enrollment_type__in', ['free', 'paid', 'trial', 'gift', 'subscription'])), name='enrollment_type'),
        ),
    ]
