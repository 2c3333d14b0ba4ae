"""Every tracked model's trail is in the audit schema, complete, and free of secrets; and every
model users change is tracked."""

import datetime

import pghistory.models
import pytest
from django.apps import apps
from django.db import connection

from apps.core.fields import BlindIndexField, EncryptedTextField
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

EVENT_MODELS = [
    m for m in pghistory.models.Event.__subclasses__() if getattr(m, "pgh_tracked_model", None)
]
SECRET_WORDS = ("password", "secret", "token", "otp", "key_", "encrypted")
# Models of our apps that are deliberately not tracked, each with the reason.
UNTRACKED = {
    "content.CourseStructure": "a cache version bumped by triggers on tracked modules and lessons",
    "content.CatalogVersion": "a cache version replaced by triggers on courses and categories",
    "core.WorkerHeartbeat": "liveness bookkeeping, rewritten every 30 s",
    "core.BackupRecord": "operations log written only by the backup command",
    "core.TaskOutbox": "a delivery queue for Celery tasks, not a record users change",
    "core.MaintenanceRun": "operations log written only by the maintenance tasks",
    "integrations.BulkEnrollmentJob": "a background job's bookkeeping; its enrollments are tracked",
    "integrations.BulkEnrollmentRow": "per-row results of a bulk job (the job's output), expiring",
    "integrations.WebhookDelivery": "an outbox/delivery log of domain events, not a user's record",
    "core.IdempotencyKey": "delivery bookkeeping of tasks (applied keys), not a user's record",
    "audit.DomainEvent": "is itself the record (append-only)",
    "audit.DomainEventEntry": "a read model of audit.events",
    "audit.AggregateVersion": "a counter of domain event versions",
    "audit.ArchivedPartition": "records archive runs; written only by the retention task",
    "audit.AuditEvent": "a read model of the trail",
    "progress.Activity": "is itself an append-only record (the activity stream)",
    "assistants.MemoryInteraction": "high-volume usage log of memories, append-only, trimmed",
    "assistants.Message": "append-only chat log; personal data that retirement must remove",
    "assistants.UsageRecord": "append-only usage register, one row per provider call",
    "analytics.UserActivityDaily": "read model of a materialized view (analytics writes nothing)",
    "analytics.EnrollmentTrend": "read model of a materialized view",
    "analytics.CoursePerformance": "read model of a materialized view",
    "analytics.ModuleCompletion": "read model of a materialized view",
    "analytics.LessonStatistics": "read model of a materialized view",
    "analytics.QuizItemStatistics": "read model of a materialized view",
    "analytics.RevenueSummary": "read model of a materialized view",
    "analytics.RefreshRun": "append-only record of view refreshes, written by the refresh task",
    "analytics.ExportJob": "a background job's bookkeeping (status, progress, file); expires",
}


def test_event_tables_live_in_the_audit_schema():
    assert EVENT_MODELS
    for event_model in EVENT_MODELS:
        assert event_model._meta.db_table.startswith('audit"."'), event_model


@pytest.mark.parametrize("event_model", EVENT_MODELS, ids=lambda m: m._meta.label)
def test_inserts_updates_and_deletes_are_all_tracked(event_model):
    tracked = event_model.pgh_tracked_model
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.tgname FROM pg_trigger t
            WHERE t.tgrelid = %s::regclass AND NOT t.tgisinternal
            """,
            [
                '"' + tracked._meta.db_table + '"'
                if '"."' in tracked._meta.db_table
                else tracked._meta.db_table
            ],
        )
        names = " ".join(row[0] for row in cursor.fetchall())
    for operation in ("insert", "update", "delete"):
        assert f"pgtrigger_{operation}_{operation}" in names, (tracked, names)


@pytest.mark.parametrize("event_model", EVENT_MODELS, ids=lambda m: m._meta.label)
def test_no_secret_enters_the_trail(event_model):
    columns = [f.column for f in event_model._meta.concrete_fields]
    leaked = [c for c in columns if any(word in c for word in SECRET_WORDS)]
    assert leaked == [], f"{event_model._meta.label} stores {leaked}"


def test_every_model_of_our_apps_is_tracked_or_explained():
    tracked = {m.pgh_tracked_model._meta.label for m in EVENT_MODELS}
    event_models = {m._meta.label for m in EVENT_MODELS}
    missing = []
    for model in apps.get_models():
        label = model._meta.label
        if not model.__module__.startswith("apps.") or label in event_models:
            continue
        if label not in tracked and label not in UNTRACKED:
            missing.append(label)
    assert missing == [], f"not tracked by pghistory and not explained: {missing}"


@pytest.mark.parametrize("event_model", EVENT_MODELS, ids=lambda m: m._meta.label)
def test_encrypted_fields_and_their_indexes_stay_out_of_the_trail(event_model):
    """ADR 0016: an encrypted value enters the trail neither in clear nor sealed."""
    tracked = event_model.pgh_tracked_model
    sensitive = {
        f.column
        for f in tracked._meta.concrete_fields
        if isinstance(f, EncryptedTextField | BlindIndexField)
    }
    columns = {f.column for f in event_model._meta.concrete_fields}
    assert sensitive & columns == set(), f"{event_model._meta.label} stores {sensitive & columns}"


def test_no_plaintext_phone_or_birth_date_in_any_audit_row():
    user = UserFactory(phone="+14155550123", date_of_birth=datetime.date(2001, 2, 3))
    user.first_name = "Changed"
    user.phone = "+14155550199"
    user.save()
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT row_to_json(e)::text FROM "audit"."accounts_user_event" e
               WHERE pgh_obj_id = %s""",
            [user.pk],
        )
        rows = [row[0] for row in cursor.fetchall()]
    assert len(rows) == 2
    for row in rows:
        assert "41555501" not in row and "2001-02-03" not in row and "enc1:" not in row
