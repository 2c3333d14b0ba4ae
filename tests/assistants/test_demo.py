"""Demo assistants: offline, with capabilities and memories; loading twice changes nothing."""

import pytest

from apps.accounts.models import User
from apps.assistants.models import AssistantCapability, AssistantProfile, UserMemory
from apps.assistants.selectors import recommendations_for
from apps.assistants.services.chat import chat_turn
from apps.demo.services import demo_seed

pytestmark = pytest.mark.django_db


def test_demo_assistants_are_idempotent_and_work_offline():
    demo_seed()
    counts = (
        AssistantProfile.objects.count(),
        AssistantCapability.objects.count(),
        UserMemory.objects.count(),
    )
    demo_seed()
    assert counts == (
        AssistantProfile.objects.count(),
        AssistantCapability.objects.count(),
        UserMemory.objects.count(),
    )
    assert counts == (2, 6, 4)
    buddy = AssistantProfile.objects.get(name="Study buddy")
    assert buddy.provider == "offline"
    assert set(buddy.categories.values_list("slug", flat=True)) == {"mathematics", "science"}
    student = User.objects.get(email="student@lyceum.test")
    result = chat_turn(user=student, profile=buddy, text="Help me with fractions")
    assert result.ok and "I find fractions hard" in result.reply.content
    reasons = [r.reason for r in recommendations_for(user=student)]
    assert "Because you told Study buddy: “I want to learn Python”" in reasons
