"""Memories: create, update, forget, recall (one ranked SQL query), expiry, retirement."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from apps.assistants.models import (
    AssistantProfile,
    Conversation,
    InteractionType,
    MemoryInteraction,
    MemoryPreference,
    MemorySource,
    UsageRecord,
    UserMemory,
)
from apps.assistants.providers.base import RecalledMemory
from apps.assistants.selectors import memory_enabled_for
from apps.audit.services import domain_event_record
from apps.core.exceptions import ConflictError, NotFoundError

MEMORY_FIELDS = ("content", "importance", "confidence", "category", "tags", "expires_at", "context")
MAX_CONTENT = 2000
MAX_TAGS = 10
RECALL_MAX_LIMIT = 50

# The recall score (docs/adr/0010-assistants.md), each part in [0, 1]:
#   relevance  = 0.6 * ts_rank(search_vector, any-word query, normalisation 32)
#              + 0.4 * word_similarity(query, content)            (pg_trgm)
#   recency    = 0.5 ^ (days since the memory was last changed / ASSISTANT_RECALL_HALF_LIFE_DAYS)
#   score      = 0.45 * relevance + 0.30 * importance + 0.10 * confidence + 0.15 * recency
# Candidates must match the query (full text or trigram, both GIN-indexed) unless the query has
# no words, when the most important memories come back.
RECALL_WEIGHTS = {"relevance": 0.45, "importance": 0.30, "confidence": 0.10, "recency": 0.15}

RECALL_SQL = """
WITH params AS (
    SELECT (
        SELECT to_tsquery('simple', string_agg(quote_literal(lexeme), ' | '))
        FROM unnest(tsvector_to_array(to_tsvector('english', %(query)s))) AS lexeme
    ) AS tsq
),
candidates AS (
    SELECT m.id, m.content, m.category, m.importance, m.confidence,
           0.6 * coalesce(ts_rank(m.search_vector, p.tsq, 32), 0)
             + 0.4 * word_similarity(%(query)s, m.content) AS relevance,
           power(0.5, extract(epoch FROM (now() - m.updated_at)) / 86400.0
                      / %(half_life)s) AS recency
    FROM "assistants"."memory" m CROSS JOIN params p
    WHERE m.user_id = %(user_id)s
      AND m.profile_id = %(profile_id)s
      AND m.forgotten_at IS NULL
      AND (m.expires_at IS NULL OR m.expires_at > now())
      AND (p.tsq IS NULL AND %(query)s !~ '[[:alnum:]]'
           OR m.search_vector @@ p.tsq
           OR %(query)s <%% m.content)
),
top AS (
    SELECT c.*,
           %(w_relevance)s * c.relevance + %(w_importance)s * c.importance
             + %(w_confidence)s * c.confidence + %(w_recency)s * c.recency AS score
    FROM candidates c
    ORDER BY score DESC, c.id
    LIMIT %(limit)s
),
touched AS (
    UPDATE "assistants"."memory" m SET last_accessed_at = now()
    FROM top WHERE m.id = top.id
    RETURNING m.id
),
logged AS (
    INSERT INTO "assistants"."memory_interaction"
        (memory_id, user_id, interaction_type, created_at, context, feedback, duration_ms,
         success, error_message)
    SELECT top.id, %(user_id)s, 'recall', now(),
           jsonb_build_object('query', left(%(query)s, 200), 'profile', %(profile_id)s::text,
                              'rank', row_number() OVER (ORDER BY top.score DESC, top.id),
                              'score', round(top.score::numeric, 4)),
           '{}'::jsonb,
           (extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1000)::integer,
           true, ''
    FROM top
    UNION ALL
    SELECT NULL, %(user_id)s, 'recall', now(),
           jsonb_build_object('query', left(%(query)s, 200), 'profile', %(profile_id)s::text,
                              'results', 0),
           '{}'::jsonb,
           (extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1000)::integer,
           true, ''
    WHERE NOT EXISTS (SELECT 1 FROM top)
    RETURNING id
)
-- PostgreSQL runs data-modifying WITH parts to completion even when nothing reads them.
SELECT id, content, category, importance, confidence, score
FROM top
ORDER BY score DESC, id
"""


# -- validation ---------------------------------------------------------------------------


def _validate(values: dict) -> dict:
    """Clean memory fields, raising ValidationError with every field's message."""
    errors: dict[str, list[str]] = {}
    cleaned = dict(values)
    if "content" in values:
        content = (values["content"] or "").strip()
        if not content:
            errors["content"] = ["A memory needs some text."]
        elif len(content) > MAX_CONTENT:
            errors["content"] = [f"At most {MAX_CONTENT} characters."]
        cleaned["content"] = content
    for field in ("importance", "confidence"):
        if field in values:
            value = values[field]
            if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
                errors[field] = [f"{field.capitalize()} must be a number from 0 to 1."]
    if "category" in values:
        cleaned["category"] = (values["category"] or "").strip()
        if len(cleaned["category"]) > 100:
            errors["category"] = ["At most 100 characters."]
    if "tags" in values:
        tags = [str(tag).strip() for tag in values["tags"] or () if str(tag).strip()]
        if len(tags) > MAX_TAGS or any(len(tag) > 50 for tag in tags):
            errors["tags"] = [f"At most {MAX_TAGS} tags of at most 50 characters."]
        cleaned["tags"] = list(dict.fromkeys(tags))
    if values.get("expires_at") is not None and values["expires_at"] <= timezone.now():
        errors["expires_at"] = ["The expiry must be in the future."]
    if "context" in values and not isinstance(values["context"] or {}, dict):
        errors["context"] = ["Context must be an object."]
    if errors:
        raise ValidationError(errors)
    return cleaned


def _interaction(*, memory, user, kind: str, context: dict | None = None) -> MemoryInteraction:
    return MemoryInteraction.objects.create(
        memory=memory, user=user, interaction_type=kind, context=context or {}
    )


def _event(memory: UserMemory, event_type: str, actor, **data) -> None:
    domain_event_record(
        aggregate_type="assistants.memory",
        aggregate_id=memory.pk,
        event_type=event_type,
        data={"user": str(memory.user_id), "profile": str(memory.profile_id), **data},
        actor=actor,
    )


# -- preference ---------------------------------------------------------------------------


@transaction.atomic
def memory_preference_set(*, user, memory_enabled: bool) -> MemoryPreference:
    """Turn memory on or off for a person. Off: nothing is stored or recalled (kept memories
    stay until forgotten)."""
    preference, _ = MemoryPreference.objects.update_or_create(
        user=user, defaults={"memory_enabled": memory_enabled}
    )
    domain_event_record(
        aggregate_type="accounts.user",
        aggregate_id=user.pk,
        event_type="memory.enabled" if memory_enabled else "memory.disabled",
        actor=user,
    )
    return preference


# -- create, update, forget ---------------------------------------------------------------


@transaction.atomic
def memory_create(
    *,
    user,
    profile: AssistantProfile,
    content: str,
    importance: float = 0.5,
    confidence: float = 1.0,
    category: str = "",
    tags: Sequence[str] = (),
    context: dict | None = None,
    source: str = MemorySource.USER,
    expires_at: dt.datetime | None = None,
    actor=None,
) -> UserMemory:
    """Store something `profile` should remember about `user`; a live memory with the same
    text is returned instead of a copy.

    Raises ValidationError for bad values, ConflictError when the person turned memory off.
    """
    values = _validate(
        {
            "content": content,
            "importance": importance,
            "confidence": confidence,
            "category": category,
            "tags": tags,
            "context": context or {},
            "expires_at": expires_at,
        }
    )
    if not memory_enabled_for(user=user):
        raise ConflictError("Memory is turned off for this person.", code="memory_disabled")
    existing = UserMemory.objects.filter(
        user=user, profile=profile, forgotten_at__isnull=True, content__iexact=values["content"]
    ).first()
    if existing is not None:
        return existing
    memory = UserMemory.objects.create(user=user, profile=profile, source=source, **values)
    _interaction(memory=memory, user=user, kind=InteractionType.CREATE, context={"source": source})
    _event(memory, "memory.created", actor or user, source=source)
    return memory


def _require_owner(actor, memory: UserMemory) -> None:
    if memory.user_id != getattr(actor, "pk", None) and not getattr(actor, "is_staff", False):
        raise NotFoundError("No such memory.")


@transaction.atomic
def memory_update(*, actor, memory: UserMemory, **changes) -> UserMemory:
    """Change a memory (its owner or staff); the version goes up when anything changed.

    Raises ValidationError for bad values or fields, NotFoundError for someone else's memory.
    """
    _require_owner(actor, memory)
    unknown = set(changes) - set(MEMORY_FIELDS)
    if unknown:
        raise ValidationError(f"Not a memory field: {', '.join(sorted(unknown))}.")
    if memory.is_forgotten:
        raise ConflictError("This memory was forgotten.", code="memory_forgotten")
    cleaned = _validate(changes)
    changed = [field for field, value in cleaned.items() if getattr(memory, field) != value]
    for field in changed:
        setattr(memory, field, cleaned[field])
    if not changed:
        return memory
    memory.version += 1
    memory.save(update_fields=[*changed, "version", "updated_at"])
    _interaction(
        memory=memory, user=memory.user, kind=InteractionType.UPDATE, context={"fields": changed}
    )
    _event(memory, "memory.updated", actor, fields=changed, version=memory.version)
    return memory


@transaction.atomic
def memory_forget(*, actor, memory: UserMemory) -> UserMemory:
    """Forget a memory: never recalled or shown again, deleted for good after
    ASSISTANT_FORGOTTEN_RETENTION_DAYS. Forgetting twice changes nothing."""
    _require_owner(actor, memory)
    if memory.is_forgotten:
        return memory
    memory.forgotten_at = timezone.now()
    memory.save(update_fields=["forgotten_at", "updated_at"])
    _interaction(memory=memory, user=memory.user, kind=InteractionType.FORGET)
    _event(memory, "memory.forgotten", actor)
    return memory


@transaction.atomic
def memory_forget_all(*, user, profile: AssistantProfile | None = None) -> int:
    """Forget every live memory of `user` (with one assistant, or all). Returns how many."""
    queryset = UserMemory.objects.filter(user=user, forgotten_at__isnull=True)
    if profile is not None:
        queryset = queryset.filter(profile=profile)
    memories = list(queryset.select_for_update())
    for memory in memories:
        memory_forget(actor=user, memory=memory)
    return len(memories)


# -- recall -------------------------------------------------------------------------------


@transaction.atomic
def memory_recall(
    *, user, profile: AssistantProfile, query: str, limit: int | None = None
) -> list[RecalledMemory]:
    """The memories of `user` with `profile` that best fit `query`, best first (score above).

    One SQL statement ranks, touches last_accessed_at of the ones returned (a set-based UPDATE)
    and logs the recall as interactions. Expired and forgotten memories never come back; a
    person who turned memory off gets nothing and nothing is logged.
    """
    if not memory_enabled_for(user=user):
        return []
    limit = max(1, min(limit or settings.ASSISTANT_RECALL_LIMIT, RECALL_MAX_LIMIT))
    params = {
        "query": (query or "")[:1000],
        "user_id": user.pk,
        "profile_id": profile.pk,
        "half_life": float(settings.ASSISTANT_RECALL_HALF_LIFE_DAYS),
        "limit": limit,
        **{f"w_{name}": weight for name, weight in RECALL_WEIGHTS.items()},
    }
    with connection.cursor() as cursor:
        cursor.execute(RECALL_SQL, params)
        rows = cursor.fetchall()
    return [
        RecalledMemory(
            id=row[0],
            content=row[1],
            category=row[2],
            importance=row[3],
            confidence=row[4],
            score=float(row[5]),
        )
        for row in rows
    ]


# -- expiry and retirement ----------------------------------------------------------------

_UNLINK_SQL = """
UPDATE "assistants"."memory_interaction" SET memory_id = NULL
WHERE memory_id IN (
    SELECT id FROM "assistants"."memory"
    WHERE expires_at <= %(now)s OR forgotten_at <= %(purge_before)s
)
"""
_EXPIRE_SQL = """
WITH gone AS (
    DELETE FROM "assistants"."memory"
    WHERE expires_at <= %(now)s OR forgotten_at <= %(purge_before)s
    RETURNING id, user_id, profile_id, expires_at, forgotten_at
)
INSERT INTO "assistants"."memory_interaction"
    (memory_id, user_id, interaction_type, created_at, context, feedback, success, error_message)
SELECT NULL, user_id, 'expire', now(),
       jsonb_build_object(
           'memory_id', id::text, 'profile', profile_id::text,
           'reason', CASE WHEN expires_at <= %(now)s THEN 'expired' ELSE 'forgotten' END),
       '{}'::jsonb, true, ''
FROM gone
"""
_TRIM_BATCH = 10_000
_TRIM_SQL = """
DELETE FROM "assistants"."memory_interaction"
WHERE id IN (
    SELECT id FROM "assistants"."memory_interaction" WHERE created_at < %(before)s LIMIT %(batch)s
)
"""


def memories_expire(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Delete memories past their expiry or forgotten long ago (each recorded as an "expire"
    interaction that keeps the memory's id), then trim interactions older than
    ASSISTANT_INTERACTION_RETENTION_DAYS in batches. Returns the counts."""
    now = now or timezone.now()
    purge_before = now - dt.timedelta(days=settings.ASSISTANT_FORGOTTEN_RETENTION_DAYS)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_UNLINK_SQL, {"now": now, "purge_before": purge_before})
        cursor.execute(_EXPIRE_SQL, {"now": now, "purge_before": purge_before})
        removed = cursor.rowcount
    trimmed = 0
    before = now - dt.timedelta(days=settings.ASSISTANT_INTERACTION_RETENTION_DAYS)
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_TRIM_SQL, {"before": before, "batch": _TRIM_BATCH})
            trimmed += cursor.rowcount
            if cursor.rowcount < _TRIM_BATCH:
                break
    return {"memories_removed": removed, "interactions_trimmed": trimmed}


@transaction.atomic
def user_assistant_data_retire(*, user, actor=None) -> dict[str, int]:
    """Remove a person's conversations (with their messages), memories, memory interactions and
    memory preference; their usage rows stay, without the person. Records one domain event."""
    conversations = Conversation.objects.filter(user=user)
    usage = UsageRecord.objects.filter(user=user).update(user=None)
    conversation_count = conversations.count()
    conversations.delete()
    MemoryInteraction.objects.filter(memory__user=user).update(memory=None)
    memory_count, _ = UserMemory.objects.filter(user=user).delete()
    interaction_count, _ = MemoryInteraction.objects.filter(user=user).delete()
    MemoryPreference.objects.filter(user=user).delete()
    counts = {
        "conversations": conversation_count,
        "memories": memory_count,
        "interactions": interaction_count,
        "usage_anonymised": usage,
    }
    domain_event_record(
        aggregate_type="accounts.user",
        aggregate_id=user.pk,
        event_type="assistant_data.retired",
        data=counts,
        actor=actor,
    )
    return counts
