"""The database refuses what the services refuse, when the application is bypassed (raw SQL)."""

import uuid

import pytest
from django.db import IntegrityError, connection, transaction

from tests.assistants.factories import MemoryFactory, ProfileFactory

pytestmark = pytest.mark.django_db

PROFILE_INSERT = """
INSERT INTO "assistants"."profile" (id, created_at, updated_at, name, description, model_version,
    provider, configuration, is_active, max_context_length, temperature, top_p,
    frequency_penalty, presence_penalty, stop_sequences, metadata)
VALUES (%s, now(), now(), %s, '', 'm', '', %s::jsonb, true, 4096, %s, %s, %s, %s, '{}', '{}')
"""
MEMORY_INSERT = """
INSERT INTO "assistants"."memory" (id, created_at, updated_at, user_id, profile_id, content,
    context, importance, confidence, category, tags, source, version)
VALUES (%s, now(), now(), %s, %s, %s, '{}', %s, %s, '', '{}', 'user', 1)
"""


def refused(sql, params, constraint):
    with (
        pytest.raises(IntegrityError, match=constraint),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)


def profile_values(**overrides):
    values = {
        "name": f"P{uuid.uuid4().hex[:6]}",
        "configuration": "{}",
        "temperature": 0.7,
        "top_p": 1,
        "frequency_penalty": 0,
        "presence_penalty": 0,
    }
    values.update(overrides)
    return [uuid.uuid4(), *values.values()]


@pytest.mark.parametrize(
    ("field", "value", "constraint"),
    [
        ("temperature", 3, "profile_temperature_range"),
        ("temperature", -0.1, "profile_temperature_range"),
        ("top_p", 1.5, "profile_top_p_range"),
        ("frequency_penalty", -2.5, "profile_frequency_penalty_range"),
        ("presence_penalty", 2.1, "profile_presence_penalty_range"),
        ("configuration", "[]", "profile_configuration_object"),
    ],
)
def test_profile_ranges(field, value, constraint):
    refused(PROFILE_INSERT, profile_values(**{field: value}), constraint)


def test_profile_edges_are_accepted():
    with connection.cursor() as cursor:
        cursor.execute(
            PROFILE_INSERT,
            profile_values(temperature=2, top_p=0, frequency_penalty=-2, presence_penalty=2),
        )


@pytest.mark.parametrize(
    ("content", "importance", "confidence", "constraint"),
    [
        ("fine", 1.5, 1, "memory_importance_range"),
        ("fine", -0.1, 1, "memory_importance_range"),
        ("fine", 0.5, 1.01, "memory_confidence_range"),
        ("", 0.5, 1, "memory_content_not_blank"),
        ("   ", 0.5, 1, "memory_content_not_blank"),
    ],
)
def test_memory_rules(user, content, importance, confidence, constraint):
    profile = ProfileFactory()
    refused(
        MEMORY_INSERT,
        [uuid.uuid4(), user.pk, profile.pk, content, importance, confidence],
        constraint,
    )


def test_memory_search_vector_is_weighted_and_kept_by_the_trigger(user):
    memory = MemoryFactory(user=user, content="Loves astronomy", tags=["stars"], category="hobby")
    with connection.cursor() as cursor:
        cursor.execute(
            'SELECT search_vector::text FROM "assistants"."memory" WHERE id = %s', [memory.pk]
        )
        vector = cursor.fetchone()[0]
        assert "'astronomi':2A" in vector and "'star':3B" in vector and "'hobbi':4C" in vector
        cursor.execute(
            'UPDATE "assistants"."memory" SET content = %s WHERE id = %s',
            ["Loves geology", memory.pk],
        )
        cursor.execute(
            'SELECT search_vector::text FROM "assistants"."memory" WHERE id = %s', [memory.pk]
        )
        assert "geolog" in cursor.fetchone()[0]


def test_recall_indexes_exist():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'assistants' "
            "AND tablename = 'memory'"
        )
        indexes = dict(cursor.fetchall())
    assert "gin (search_vector)" in indexes["memory_search_vector"]
    assert "gin (content gin_trgm_ops)" in indexes["memory_content_trgm"]


def test_capability_names_are_unique_per_profile_and_lower_case():
    profile = ProfileFactory()
    sql = (
        'INSERT INTO "assistants"."capability" (id, created_at, updated_at, profile_id, name, '
        "description, parameters, is_enabled, priority, version) "
        "VALUES (%s, now(), now(), %s, %s, '', '{}', true, 0, '1')"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [uuid.uuid4(), profile.pk, "memory"])
    refused(sql, [uuid.uuid4(), profile.pk, "memory"], "capability_name_unique")
    refused(sql, [uuid.uuid4(), profile.pk, "Lesson Planning"], "capability_name_format")


def test_a_failed_usage_row_needs_an_error_code(user):
    profile = ProfileFactory()
    sql = (
        'INSERT INTO "assistants"."usage_record" (user_id, profile_id, provider, model, '
        "operation, prompt_tokens, completion_tokens, latency_ms, attempts, success, error_code, "
        "created_at) VALUES (%s, %s, 'openai', 'm', 'chat', 0, 0, 0, 1, false, '', now())"
    )
    refused(sql, [user.pk, profile.pk], "usage_error_iff_failed")
