"""The assistants API: list, chat, memories CRUD (own only), recall, recommendations."""

import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.assistants.models import Conversation, Message, UsageRecord, UserMemory
from apps.assistants.services.memories import memory_create
from apps.content.models import CoursePrerequisite
from apps.progress.models import Enrollment
from tests.accounts.factories import UserFactory
from tests.assistants.conftest import with_role
from tests.assistants.factories import CapabilityFactory, MemoryFactory, ProfileFactory
from tests.assistants.fake_server import FakeChatServer
from tests.content.factories import CategoryFactory, CourseFactory, published

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(api_client, student):
    api_client.force_authenticate(student)
    return api_client


def url(name, **kwargs):
    return reverse(f"api:assistants:{name}", kwargs=kwargs)


def test_anonymous_callers_get_401(api_client):
    assert api_client.get(url("list")).status_code == 401


def test_list_shows_active_assistants_with_capabilities(
    client, profile, django_assert_max_num_queries
):
    ProfileFactory(name="Retired", is_active=False)
    other = ProfileFactory(name="Zed")
    other.categories.add(CategoryFactory(name="Physics"))
    # profiles, capabilities, categories (+ the request's savepoint and its release)
    with django_assert_max_num_queries(5):
        body = client.get(url("list")).json()
    assert [a["name"] for a in body] == ["Study buddy", "Zed"]
    assert body[0]["capabilities"][0]["name"] == "memory"
    assert body[1]["categories"] == ["Physics"]


def test_chat_turn(client, profile, student):
    response = client.post(
        url("chat", profile_id=profile.pk), {"message": "Remember that I love maps."}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert "I will remember that I love maps" in body["reply"]
    assert body["memories_created"] == ["I love maps"]
    again = client.post(
        url("chat", profile_id=profile.pk),
        {"message": "maps?", "conversation": body["conversation"]},
    )
    assert again.json()["conversation"] == body["conversation"]
    assert Message.objects.filter(conversation_id=body["conversation"]).count() == 4


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"message": ""}, "message"), ({}, "message"), ({"message": "x" * 4001}, "message")],
)
def test_chat_bad_input_is_400_and_writes_nothing(client, profile, payload, field):
    response = client.post(url("chat", profile_id=profile.pk), payload)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Conversation.objects.exists()


def test_chat_with_an_unknown_assistant_is_404(client):
    response = client.post(url("chat", profile_id=uuid.uuid4()), {"message": "Hi"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_assistant"
    assert not Conversation.objects.exists()


def test_chat_provider_failure_is_502_and_recorded(client, settings):
    settings.ASSISTANT_HTTP_MAX_ATTEMPTS = 1
    with FakeChatServer([(200, b"<html>oops</html>", 0, {})]) as server:
        profile = ProfileFactory(provider="openai", configuration={"base_url": server.url})
        response = client.post(url("chat", profile_id=profile.pk), {"message": "Hi"})
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "provider_malformed_reply"
    conversation = Conversation.objects.get(pk=error["fields"]["conversation"][0])
    assert conversation.last_error_code == "malformed_reply"
    assert UsageRecord.objects.get().success is False


def test_memories_crud_is_own_only(client, profile, student):
    created = client.post(
        url("memories"),
        {"assistant": str(profile.pk), "content": "Likes maps", "importance": 0.8, "tags": ["geo"]},
    )
    assert created.status_code == 201, created.json()
    memory_id = created.json()["id"]
    someone_else = MemoryFactory(profile=profile, content="Not yours")
    listed = client.get(url("memories")).json()
    assert [m["content"] for m in listed["results"]] == ["Likes maps"]
    assert client.get(url("memory", memory_id=someone_else.pk)).status_code == 404
    assert client.delete(url("memory", memory_id=someone_else.pk)).status_code == 404
    changed = client.patch(url("memory", memory_id=memory_id), {"importance": 0.3})
    assert changed.json()["importance"] == 0.3 and changed.json()["version"] == 2
    assert client.delete(url("memory", memory_id=memory_id)).status_code == 204
    assert client.get(url("memory", memory_id=memory_id)).status_code == 404
    assert UserMemory.objects.get(pk=memory_id).forgotten_at is not None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"content": "x", "importance": 1.5}, "importance"),
        ({"content": ""}, "content"),
        ({"content": "x", "confidence": -1}, "confidence"),
    ],
)
def test_bad_memories_are_400(client, profile, payload, field):
    response = client.post(url("memories"), {"assistant": str(profile.pk), **payload})
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not UserMemory.objects.exists()


def test_memory_for_an_unknown_assistant_is_404(client):
    response = client.post(url("memories"), {"assistant": str(uuid.uuid4()), "content": "x"})
    assert response.status_code == 404


def test_recall(client, profile, student):
    memory_create(user=student, profile=profile, content="Revises chemistry with flashcards")
    body = client.post(url("recall", profile_id=profile.pk), {"query": "chemistry"}).json()
    assert [m["content"] for m in body] == ["Revises chemistry with flashcards"]
    assert 0 < body[0]["score"] <= 1


def test_recommendations_explain_themselves(client, profile, student):
    course = published(CourseFactory(title="Astronomy for beginners", short_description="Stars"))
    memory_create(user=student, profile=profile, content="I want to learn astronomy")
    body = client.get(url("recommendations")).json()
    assert body[0]["course"] == str(course.pk)
    assert body[0]["reason"] == "Because you told Study buddy: “I want to learn astronomy”"


def test_recommendations_from_the_assistants_subjects(client, student):
    physics = CategoryFactory(name="Physics")
    course = published(CourseFactory(title="Mechanics", category=physics))
    tutor = ProfileFactory(name="Physics tutor")
    CapabilityFactory(profile=tutor, name="memory")
    tutor.categories.add(physics)
    client.post(url("chat", profile_id=tutor.pk), {"message": "Hello"})
    body = client.get(url("recommendations")).json()
    assert [(r["title"], r["reason"]) for r in body] == [
        (course.title, "Because you use Physics tutor for Physics")
    ]


def test_a_person_without_assistant_use_is_refused(api_client, profile):
    api_client.force_authenticate(UserFactory())
    response = api_client.post(url("chat", profile_id=profile.pk), {"message": "Hi"})
    assert response.status_code == 403


def test_staff_role_holder_can_chat(api_client, profile):
    api_client.force_authenticate(with_role(UserFactory(), "administrator"))
    assert api_client.post(url("chat", profile_id=profile.pk), {"message": "Hi"}).status_code == 200


def test_recommendations_follow_completed_courses(client, student):
    basics = published(CourseFactory(title="Algebra basics"))
    next_course = published(CourseFactory(title="Algebra II"))
    CoursePrerequisite.objects.create(course=next_course, prerequisite=basics)
    Enrollment.objects.create(
        user=student,
        course=basics,
        status="completed",
        progress_percent=100,
        completed_at=timezone.now(),
    )
    body = client.get(url("recommendations")).json()
    assert [(r["title"], r["reason"]) for r in body] == [
        ("Algebra II", "Because you completed Algebra basics")
    ]
