"""Recall: one ranked query over full text, trigrams, importance, confidence and recency."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.assistants.models import MemoryInteraction, UserMemory
from apps.assistants.services.memories import memory_preference_set, memory_recall
from tests.accounts.factories import UserFactory
from tests.assistants.factories import MemoryFactory, ProfileFactory

pytestmark = pytest.mark.django_db


def age(memory, days: float) -> None:
    """Make a memory `days` old (updated_at moves only with a real change, so set it by SQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            'UPDATE "assistants"."memory" SET created_at = %s, updated_at = %s WHERE id = %s',
            [timezone.now() - dt.timedelta(days=days)] * 2 + [memory.pk],
        )


def recalled(user, profile, query, **kwargs):
    return [m.content for m in memory_recall(user=user, profile=profile, query=query, **kwargs)]


def test_more_important_wins_when_equally_relevant_and_recent(user, profile):
    MemoryFactory(
        user=user, profile=profile, content="Likes chess puzzles on Mondays", importance=0.2
    )
    MemoryFactory(
        user=user, profile=profile, content="Likes chess puzzles on Fridays", importance=0.9
    )
    assert recalled(user, profile, "chess puzzles") == [
        "Likes chess puzzles on Fridays",
        "Likes chess puzzles on Mondays",
    ]


def test_more_relevant_wins_over_a_little_more_important(user, profile):
    MemoryFactory(user=user, profile=profile, content="Finds fractions hard", importance=0.6)
    MemoryFactory(
        user=user,
        profile=profile,
        content="Struggles with fractions and decimals in word problems",
        importance=0.5,
    )
    assert recalled(user, profile, "decimals and fractions in word problems") == [
        "Struggles with fractions and decimals in word problems",
        "Finds fractions hard",
    ]


def test_much_more_important_wins_over_slightly_more_relevant(user, profile):
    MemoryFactory(user=user, profile=profile, content="Piano practice on Sundays", importance=0.1)
    MemoryFactory(user=user, profile=profile, content="Has piano exam next month", importance=1.0)
    assert recalled(user, profile, "piano practice") == [
        "Has piano exam next month",
        "Piano practice on Sundays",
    ]


def test_more_recent_wins_when_equally_relevant_and_important(user, profile):
    old = MemoryFactory(user=user, profile=profile, content="Prefers video lessons at night")
    MemoryFactory(user=user, profile=profile, content="Prefers video lessons at lunch")
    age(old, 120)
    assert recalled(user, profile, "video lessons") == [
        "Prefers video lessons at lunch",
        "Prefers video lessons at night",
    ]


def test_trigram_similarity_finds_misspelled_words(user, profile):
    MemoryFactory(user=user, profile=profile, content="Learning photosynthesis for biology")
    assert recalled(user, profile, "photosynthesys") == ["Learning photosynthesis for biology"]


def test_unrelated_memories_do_not_come_back(user, profile):
    MemoryFactory(user=user, profile=profile, content="Allergic to peanuts")
    assert recalled(user, profile, "geometry homework") == []


def test_a_query_without_words_returns_the_most_important(user, profile):
    MemoryFactory(user=user, profile=profile, content="A", importance=0.1)
    MemoryFactory(user=user, profile=profile, content="B", importance=0.9)
    assert recalled(user, profile, "  ?! ") == ["B", "A"]


def test_expired_forgotten_and_other_peoples_memories_never_come_back(user, profile):
    query = "algebra revision"
    MemoryFactory(user=user, profile=profile, content="Algebra revision on Tuesdays")
    expired = MemoryFactory(user=user, profile=profile, content="Algebra revision before the test")
    age(expired, 10)
    UserMemory.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - dt.timedelta(days=1)
    )
    MemoryFactory(
        user=user,
        profile=profile,
        content="Algebra revision with a tutor",
        forgotten_at=timezone.now(),
    )
    MemoryFactory(user=UserFactory(), profile=profile, content="Algebra revision for someone else")
    MemoryFactory(user=user, profile=ProfileFactory(), content="Algebra revision, other assistant")
    assert recalled(user, profile, query) == ["Algebra revision on Tuesdays"]


def test_limit_caps_the_results(user, profile):
    for n in range(6):
        MemoryFactory(user=user, profile=profile, content=f"Reading list item {n}")
    assert len(recalled(user, profile, "reading list", limit=3)) == 3


def test_recall_logs_interactions_and_touches_last_accessed_only(user, profile):
    hit = MemoryFactory(user=user, profile=profile, content="Revises chemistry with flashcards")
    miss = MemoryFactory(user=user, profile=profile, content="Plays football")
    before = UserMemory.objects.get(pk=hit.pk)
    result = memory_recall(user=user, profile=profile, query="chemistry flashcards")
    assert [m.id for m in result] == [hit.pk]
    assert 0 < result[0].score <= 1
    hit.refresh_from_db()
    miss.refresh_from_db()
    assert hit.last_accessed_at is not None and miss.last_accessed_at is None
    assert hit.updated_at == before.updated_at  # a recall is not a change
    assert hit.version == 1
    log = MemoryInteraction.objects.get(user=user, interaction_type="recall")
    assert log.memory_id == hit.pk
    assert log.context["query"] == "chemistry flashcards" and log.context["rank"] == 1
    with connection.cursor() as cursor:
        cursor.execute(
            'SELECT count(*) FROM "audit"."assistants_memory_event" '
            "WHERE pgh_obj_id = %s AND pgh_label = 'update'",
            [hit.pk],
        )
        assert cursor.fetchone()[0] == 0


def test_a_recall_with_no_result_is_logged_too(user, profile):
    assert recalled(user, profile, "astronomy") == []
    log = MemoryInteraction.objects.get(user=user, interaction_type="recall")
    assert log.memory_id is None and log.context["results"] == 0


def test_memory_turned_off_recalls_nothing_and_logs_nothing(user, profile):
    MemoryFactory(user=user, profile=profile, content="Studies Spanish verbs")
    memory_preference_set(user=user, memory_enabled=False)
    assert recalled(user, profile, "Spanish verbs") == []
    assert not MemoryInteraction.objects.filter(interaction_type="recall").exists()


def test_recall_is_one_statement(user, profile):
    MemoryFactory(user=user, profile=profile, content="Practises times tables")
    with CaptureQueriesContext(connection) as queries:
        memory_recall(user=user, profile=profile, query="times tables")
    statements = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 2  # the opt-out check, then rank + touch + log in one statement
    assert "UPDATE" in statements[1] and "INSERT" in statements[1]
