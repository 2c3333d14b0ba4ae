"""Demo assistants (offline provider, so the demo works with no network) and a few memories
for the demo student and teacher; idempotent."""

from __future__ import annotations

from apps.assistants.models import MemorySource, UserMemory
from apps.assistants.services.memories import memory_create
from apps.assistants.services.profiles import profile_ensure
from apps.content.models import Category

PROFILES = (
    {
        "name": "Study buddy",
        "description": "Answers from what you told it and from the lessons on Lyceum.",
        "capabilities": [
            ("memory", "Remembers what you ask it to."),
            ("recommendation", "Suggests courses to take next."),
            ("feedback", "Comments on your answers."),
        ],
        "categories": ("mathematics", "science"),
        "temperature": 0.4,
    },
    {
        "name": "Lesson planner",
        "description": "Drafts lesson plans for teachers from their earlier plans and lessons.",
        "capabilities": [
            ("lesson_planning", "Drafts a plan for a subject, grade and week."),
            ("quiz_generation", "Proposes quiz questions."),
            ("memory", "Remembers your classes and preferences."),
        ],
        "categories": ("mathematics", "science", "computing", "languages"),
        "temperature": 0.7,
    },
)

MEMORIES = (
    ("student@lyceum.test", "Study buddy", "I find fractions hard", 0.8, "learning"),
    ("student@lyceum.test", "Study buddy", "I want to learn Python", 0.9, "goal"),
    ("student@lyceum.test", "Study buddy", "I prefer short videos to long texts", 0.6, "style"),
    ("teacher@lyceum.test", "Lesson planner", "My grade 5 class meets on Tuesdays", 0.7, "class"),
)


def demo_assistants_seed(*, users: dict) -> int:
    """Create the demo assistants and memories that are missing. Returns rows created."""
    created = 0
    categories = {c.slug: c for c in Category.objects.all()}
    profiles = {}
    for spec in PROFILES:
        spec = dict(spec)
        slugs = spec.pop("categories")
        profiles[spec["name"]], new = profile_ensure(
            model_version="lyceum-offline-1",
            provider="offline",
            categories=[categories[slug] for slug in slugs if slug in categories],
            **spec,
        )
        created += new
    for email, profile_name, content, importance, category in MEMORIES:
        user, profile = users[email], profiles[profile_name]
        if UserMemory.objects.filter(user=user, profile=profile, content=content).exists():
            continue
        memory_create(
            user=user,
            profile=profile,
            content=content,
            importance=importance,
            category=category,
            source=MemorySource.DEMO,
        )
        created += 1
    return created
