"""Assistant pages and admin, through Django's test client."""

import datetime as dt

import pytest
from django.urls import reverse

from apps.assistants.models import MemoryPreference, UserMemory
from apps.assistants.services.memories import memory_create
from apps.content.models import LessonPlan
from tests.assistants.factories import CapabilityFactory, MemoryFactory, ProfileFactory

pytestmark = pytest.mark.django_db


def test_pages_need_a_login(client):
    response = client.get(reverse("assistants:memories"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_chat_page_round_trip(client, student, profile):
    client.force_login(student)
    index = client.get(reverse("assistants:index"))
    assert "Study buddy" in index.content.decode()
    url = reverse("assistants:chat", kwargs={"profile_id": profile.pk})
    response = client.post(url, {"message": "Remember that I like maps."})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Noted, I will remember that I like maps." in page
    empty = client.post(response["Location"], {"message": " "})
    assert "Write a message first." in empty.content.decode()


def test_unknown_assistant_and_conversation_pages_are_404(client, student, profile):
    client.force_login(student)
    assert client.get("/assistants/00000000-0000-0000-0000-000000000000/").status_code == 404
    url = reverse("assistants:chat", kwargs={"profile_id": profile.pk})
    assert client.get(f"{url}?c=not-a-uuid").status_code == 404


def test_my_memories_edit_forget_and_opt_out(client, student, profile):
    client.force_login(student)
    memory = memory_create(user=student, profile=profile, content="Likes maps")
    MemoryFactory(profile=profile, content="Someone else's")
    page = client.get(reverse("assistants:memories")).content.decode()
    assert "Likes maps" in page and "Someone else" not in page
    client.post(
        reverse("assistants:memory_edit", kwargs={"memory_id": memory.pk}),
        {"content": "Likes old maps", "importance": "0.9"},
    )
    memory.refresh_from_db()
    assert (memory.content, memory.importance) == ("Likes old maps", 0.9)
    bad = client.post(
        reverse("assistants:memory_edit", kwargs={"memory_id": memory.pk}),
        {"content": "x", "importance": "1.5"},
        follow=True,
    )
    assert "less than or equal to 1" in bad.content.decode()
    client.post(reverse("assistants:memory_forget", kwargs={"memory_id": memory.pk}))
    assert UserMemory.objects.get(pk=memory.pk).forgotten_at is not None
    assert "Likes old maps" not in client.get(reverse("assistants:memories")).content.decode()
    client.post(reverse("assistants:memory_preference"), {})
    assert MemoryPreference.objects.get(user=student).memory_enabled is False


def test_planner_saves_a_draft_and_opens_it_in_the_lesson_planner(client, teacher):
    planner = ProfileFactory(name="Lesson planner")
    CapabilityFactory(profile=planner, name="lesson_planning")
    client.force_login(teacher)
    response = client.post(
        reverse("assistants:planner"),
        {"topic": "the water cycle", "grade_level": "4", "week_of": dt.date(2026, 11, 25)},
    )
    plan = LessonPlan.objects.get(owner=teacher)
    assert response["Location"] == reverse("content:plan_edit", kwargs={"plan_id": plan.pk})
    assert plan.status == "draft" and plan.week_of == dt.date(2026, 11, 23)


def test_students_cannot_use_the_planner(client, student):
    CapabilityFactory(profile=ProfileFactory(), name="lesson_planning")
    client.force_login(student)
    response = client.post(
        reverse("assistants:planner"), {"topic": "x", "week_of": dt.date(2026, 11, 25)}
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "name",
    [
        "assistantprofile",
        "usermemory",
        "memoryinteraction",
        "conversation",
        "usagerecord",
        "memorypreference",
    ],
)
def test_admin_lists(verified_staff_client, profile, student, name):
    memory_create(user=student, profile=profile, content="Likes maps")
    response = verified_staff_client.get(reverse(f"admin:assistants_{name}_changelist"))
    assert response.status_code == 200


def test_admin_profile_page_has_capabilities_inline(verified_staff_client, profile):
    url = reverse("admin:assistants_assistantprofile_change", args=[profile.pk])
    assert "capabilities-TOTAL_FORMS" in verified_staff_client.get(url).content.decode()


def test_admin_memory_filters(verified_staff_client, student, profile):
    memory_create(user=student, profile=profile, content="Likes maps")
    url = reverse("admin:assistants_usermemory_changelist")
    for query in ("expiry=never", "expiry=week", "expiry=expired", "state=forgotten"):
        assert verified_staff_client.get(f"{url}?{query}").status_code == 200
