"""Memories, chat turns, expiry, retirement and lesson-plan drafts through their services."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from apps.assistants.models import (
    Conversation,
    MemoryInteraction,
    Message,
    UsageRecord,
    UserMemory,
)
from apps.assistants.services.chat import chat_turn, remember_requests_extract
from apps.assistants.services.memories import (
    memories_expire,
    memory_create,
    memory_forget,
    memory_preference_set,
    memory_update,
)
from apps.assistants.services.planning import lesson_plan_draft, lesson_plan_draft_save
from apps.assistants.tasks import expire_memories
from apps.audit.models import DomainEvent
from apps.content.models import LessonPlan
from apps.content.schemas import (
    ACTIVITIES_SCHEMA,
    LESSON_DATA_SCHEMA,
    STRING_LIST_SCHEMA,
    schema_errors,
)
from apps.content.services import lesson_plan_update
from apps.core.exceptions import ConflictError, NotFoundError, PermissionDeniedError
from tests.accounts.factories import UserFactory
from tests.assistants.conftest import with_role
from tests.assistants.factories import CapabilityFactory, MemoryFactory, ProfileFactory
from tests.assistants.fake_server import FakeChatServer, completion
from tests.content.factories import CategoryFactory, LessonFactory, published

pytestmark = pytest.mark.django_db


# -- memories -----------------------------------------------------------------------------


def test_memory_create_logs_an_interaction_and_a_domain_event(student, profile):
    memory = memory_create(user=student, profile=profile, content="  Likes maps ", importance=0.8)
    assert memory.content == "Likes maps" and memory.version == 1
    assert MemoryInteraction.objects.get(memory=memory).interaction_type == "create"
    event = DomainEvent.objects.get(aggregate_id=memory.pk)
    assert event.event_type == "memory.created"
    assert "Likes maps" not in str(event.data)  # the text stays out of the event store


def test_the_same_text_twice_is_one_memory(student, profile):
    first = memory_create(user=student, profile=profile, content="Likes maps")
    assert memory_create(user=student, profile=profile, content="likes MAPS") == first


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"content": ""}, "content"),
        ({"content": "   "}, "content"),
        ({"importance": 1.5}, "importance"),
        ({"confidence": -0.2}, "confidence"),
        ({"expires_at": dt.datetime(2000, 1, 1, tzinfo=dt.UTC)}, "expires_at"),
    ],
)
def test_bad_memories_are_refused_and_nothing_is_written(student, profile, values, field):
    with pytest.raises(ValidationError) as caught:
        memory_create(user=student, profile=profile, **{"content": "ok", **values})
    assert field in caught.value.message_dict
    assert not UserMemory.objects.exists() and not MemoryInteraction.objects.exists()


def test_memory_update_bumps_the_version(student, profile):
    memory = memory_create(user=student, profile=profile, content="Likes maps")
    memory_update(actor=student, memory=memory, content="Likes old maps", importance=0.9)
    memory.refresh_from_db()
    assert (memory.content, memory.importance, memory.version) == ("Likes old maps", 0.9, 2)
    assert DomainEvent.objects.filter(event_type="memory.updated").count() == 1
    with pytest.raises(ValidationError):
        memory_update(actor=student, memory=memory, importance=1.5)


def test_only_the_owner_changes_a_memory(student, profile):
    memory = memory_create(user=student, profile=profile, content="Likes maps")
    with pytest.raises(NotFoundError):
        memory_update(actor=UserFactory(), memory=memory, content="x")
    with pytest.raises(NotFoundError):
        memory_forget(actor=UserFactory(), memory=memory)


def test_forget_is_soft_and_recorded(student, profile):
    memory = memory_create(user=student, profile=profile, content="Likes maps")
    memory_forget(actor=student, memory=memory)
    memory.refresh_from_db()
    assert memory.forgotten_at is not None
    assert DomainEvent.objects.filter(event_type="memory.forgotten").count() == 1
    assert MemoryInteraction.objects.filter(memory=memory, interaction_type="forget").exists()
    with pytest.raises(ConflictError):
        memory_update(actor=student, memory=memory, content="again")


def test_memory_off_refuses_new_memories(student, profile):
    memory_preference_set(user=student, memory_enabled=False)
    with pytest.raises(ConflictError):
        memory_create(user=student, profile=profile, content="Likes maps")


# -- expiry -------------------------------------------------------------------------------


def _set(memory, **values):
    sets = ", ".join(f"{name} = %s" for name in values)
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "assistants"."memory" SET {sets} WHERE id = %s', [*values.values(), memory.pk]
        )


def test_expiry_removes_expired_and_long_forgotten_memories_as_interactions(user, settings):
    settings.ASSISTANT_FORGOTTEN_RETENTION_DAYS = 30
    settings.ASSISTANT_INTERACTION_RETENTION_DAYS = 90
    now = timezone.now()
    expired = MemoryFactory(user=user, content="Exam on Friday")
    _set(expired, created_at=now - dt.timedelta(days=5), expires_at=now - dt.timedelta(days=1))
    old_forgotten = MemoryFactory(user=user, forgotten_at=now - dt.timedelta(days=31))
    recent_forgotten = MemoryFactory(user=user, forgotten_at=now - dt.timedelta(days=2))
    live = MemoryFactory(user=user, expires_at=now + dt.timedelta(days=1))
    recall_log = MemoryInteraction.objects.create(
        memory=expired, user=user, interaction_type="recall"
    )
    ancient = MemoryInteraction.objects.create(memory=live, user=user, interaction_type="recall")
    MemoryInteraction.objects.filter(pk=ancient.pk).update(created_at=now - dt.timedelta(days=91))

    assert expire_memories.apply().get() == {"memories_removed": 2, "interactions_trimmed": 1}

    assert set(UserMemory.objects.values_list("pk", flat=True)) == {recent_forgotten.pk, live.pk}
    gone = MemoryInteraction.objects.filter(interaction_type="expire")
    assert {(i.context["memory_id"], i.context["reason"]) for i in gone} == {
        (str(expired.pk), "expired"),
        (str(old_forgotten.pk), "forgotten"),
    }
    recall_log.refresh_from_db()
    assert recall_log.memory_id is None  # the log outlives the memory
    assert not MemoryInteraction.objects.filter(pk=ancient.pk).exists()
    assert memories_expire() == {"memories_removed": 0, "interactions_trimmed": 0}


# -- retirement ---------------------------------------------------------------------------


def test_retirement_command_removes_conversations_and_memories(student, profile, capsys):
    chat_turn(user=student, profile=profile, text="Remember that I like maps.")
    other = with_role(UserFactory(), "student")
    chat_turn(user=other, profile=profile, text="Remember that I like trains.")
    call_command("assistants_retire_user", student.email.upper())
    assert "Retired assistant data" in capsys.readouterr().out
    assert not Conversation.objects.filter(user=student).exists()
    assert not UserMemory.objects.filter(user=student).exists()
    assert not MemoryInteraction.objects.filter(user=student).exists()
    usage = UsageRecord.objects.filter(profile=profile)
    assert usage.count() == 2 and usage.filter(user__isnull=True).count() == 1
    assert UserMemory.objects.filter(user=other).count() == 1
    assert DomainEvent.objects.filter(event_type="assistant_data.retired").count() == 1


# -- chat ---------------------------------------------------------------------------------


def test_remember_requests_are_explicit():
    assert remember_requests_extract("Please remember that my exam is on Friday. Thanks") == [
        "my exam is on Friday"
    ]
    assert remember_requests_extract("Remember: I prefer videos") == ["I prefer videos"]
    assert remember_requests_extract("Do you remember that lesson?") == []


def test_offline_chat_turn_records_messages_usage_and_memory(student, profile):
    course = published(LessonFactory(title="Adding fractions").module.course)
    result = chat_turn(
        user=student, profile=profile, text="Remember that fractions are hard for me."
    )
    assert result.ok and result.error_code == ""
    assert "Noted, I will remember that fractions are hard for me." in result.reply.content
    assert f"Adding fractions (in {course.title})" in result.reply.content
    assert [m.role for m in result.conversation.messages.all()] == ["user", "assistant"]
    memory = UserMemory.objects.get(user=student)
    assert (memory.content, memory.source) == ("fractions are hard for me", "conversation")
    usage = UsageRecord.objects.get()
    assert usage.success and usage.provider == "offline" and usage.completion_tokens > 0
    again = chat_turn(
        user=student,
        profile=profile,
        text="What about fractions?",
        conversation=result.conversation,
    )
    assert "- fractions are hard for me" in again.reply.content


def test_chat_needs_a_message_an_assistant_and_the_permission(student, profile):
    with pytest.raises(ValidationError):
        chat_turn(user=student, profile=profile, text="   ")
    profile.is_active = False
    profile.save()
    with pytest.raises(NotFoundError):
        chat_turn(user=student, profile=profile, text="Hi")
    with pytest.raises(PermissionDeniedError):
        chat_turn(user=UserFactory(), profile=ProfileFactory(), text="Hi")
    assert not Message.objects.exists() and not Conversation.objects.exists()


def test_someone_elses_conversation_is_not_found(student, profile):
    result = chat_turn(user=student, profile=profile, text="Hi")
    other = with_role(UserFactory(), "student")
    with pytest.raises(NotFoundError):
        chat_turn(user=other, profile=profile, text="Hi", conversation=result.conversation)


def http_profile(server_url):
    profile = ProfileFactory(provider="openai", configuration={"base_url": server_url})
    CapabilityFactory(profile=profile, name="memory")
    return profile


def test_http_chat_turn_stores_proposed_memories(student, settings):
    settings.ASSISTANT_HTTP_BACKOFF = 0.01
    answer = "Try a number line.\n[remember] Sofia learns best with pictures"
    with FakeChatServer([(200, completion(answer), 0, {})]) as server:
        result = chat_turn(user=student, profile=http_profile(server.url), text="Fractions?")
    assert result.reply.content == "Try a number line."
    assert (result.reply.prompt_tokens, result.reply.completion_tokens) == (12, 7)
    memory = UserMemory.objects.get(user=student)
    assert (memory.content, memory.source, memory.confidence) == (
        "Sofia learns best with pictures",
        "provider",
        0.6,
    )


@pytest.mark.parametrize(
    ("script", "code"),
    [
        ([(200, completion("late"), 1.0, {})], "timeout"),
        ([(200, b"{not json", 0, {})], "malformed_reply"),
        ([(500, {}, 0, {})], "http_error"),
    ],
)
def test_a_failed_turn_is_recorded_and_half_writes_nothing(student, settings, script, code):
    settings.ASSISTANT_HTTP_TIMEOUT = 0.2
    settings.ASSISTANT_HTTP_BACKOFF = 0.01
    settings.ASSISTANT_HTTP_MAX_ATTEMPTS = 2
    with FakeChatServer(script) as server:
        result = chat_turn(
            user=student, profile=http_profile(server.url), text="Remember that I like maps."
        )
    assert not result.ok and result.error_code == code
    conversation = Conversation.objects.get()
    assert conversation.last_error_code == code and conversation.last_error
    message = Message.objects.get()
    assert (message.role, message.error_code) == ("user", code)
    assert not UserMemory.objects.exists()  # the remember request waits for a successful turn
    usage = UsageRecord.objects.get()
    assert not usage.success and usage.error_code == code


# -- lesson planning ----------------------------------------------------------------------


@pytest.fixture
def planner(db):
    profile = ProfileFactory(name="Lesson planner")
    CapabilityFactory(profile=profile, name="lesson_planning")
    return profile


def test_lesson_plan_draft_is_a_valid_plan(teacher, planner):
    subject = CategoryFactory(name="Mathematics")
    draft = lesson_plan_draft(
        teacher=teacher,
        topic="equivalent fractions",
        week_of=dt.date(2026, 11, 26),
        subject=subject,
        grade_level="5",
    )
    assert draft["week_of"] == dt.date(2026, 11, 23)
    assert schema_errors(LESSON_DATA_SCHEMA, draft["lesson_data"]) == []
    assert schema_errors(ACTIVITIES_SCHEMA, draft["activities"]) == []
    assert schema_errors(STRING_LIST_SCHEMA, draft["materials"]) == []
    plan = lesson_plan_draft_save(teacher=teacher, draft=draft)
    plan.refresh_from_db()
    assert (plan.owner, plan.status, plan.subject_category) == (teacher, "draft", subject)
    assert plan.objectives.count() == 2
    # the teacher can edit and save it with content's own service
    lesson_plan_update(actor=teacher, plan=plan, title="Fractions, day 1")
    assert LessonPlan.objects.get(pk=plan.pk).title == "Fractions, day 1"


def test_a_draft_starts_from_the_teachers_matching_plan(teacher, planner):
    lesson_plan_draft_save(
        teacher=teacher,
        draft={
            **lesson_plan_draft(teacher=teacher, topic="fractions", week_of=dt.date(2026, 11, 23)),
            "activities": [{"title": "Fraction walls", "minutes": 20}],
        },
    )
    draft = lesson_plan_draft(
        teacher=teacher, topic="fractions again", week_of=dt.date(2026, 12, 1)
    )
    assert [a["title"] for a in draft["activities"]] == ["Fraction walls"]


def test_only_teachers_draft_plans(student, planner):
    with pytest.raises(PermissionDeniedError):
        lesson_plan_draft(teacher=student, topic="x", week_of=dt.date(2026, 11, 23))
