"""The teacher's lesson-planning assistant: a draft plan for a subject, grade and week, built
from the teacher's own plans on the topic (as templates) and matching lessons, and checked with
content's lesson-plan rules. Saving goes through content's `lesson_plan_create`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError

from apps.assistants.models import CapabilityName
from apps.assistants.selectors import (
    lessons_matching,
    plan_templates_matching,
    profile_with_capability,
)
from apps.content.models import Category, LessonPlan
from apps.content.schemas import (
    ACTIVITIES_SCHEMA,
    LESSON_DATA_SCHEMA,
    STRING_LIST_SCHEMA,
    schema_errors,
)
from apps.content.services import lesson_plan_create, monday_of
from apps.core.exceptions import NotFoundError, PermissionDeniedError
from apps.rbac.selectors import user_has_permission, user_permission_scopes

DEFAULT_ACTIVITIES = (
    ("Warm-up", 5, "Activate prior knowledge of {topic} with a quick question."),
    ("Direct instruction", 15, "Introduce the key ideas of {topic} with worked examples."),
    ("Guided practice", 15, "Pairs solve two problems on {topic}; circulate and give feedback."),
    ("Exit ticket", 5, "Each learner answers one question showing what they learned."),
)
DURATION_BY_GRADE = {"K": 30, "1": 30, "2": 35, "3": 40, "4": 40, "5": 45}


def lesson_planning_allowed(*, user) -> bool:
    """Teachers (course.edit anywhere) who may use assistants."""
    return user_has_permission(user, "assistant.use") and bool(
        user_permission_scopes(user, "course.edit")
    )


def _fields_errors(draft: dict[str, Any]) -> dict[str, list[str]]:
    errors = {}
    for field, schema in (
        ("lesson_data", LESSON_DATA_SCHEMA),
        ("materials", STRING_LIST_SCHEMA),
        ("assessment_criteria", STRING_LIST_SCHEMA),
        ("activities", ACTIVITIES_SCHEMA),
    ):
        messages = schema_errors(schema, draft[field])
        if messages:
            errors[field] = messages
    return errors


def lesson_plan_draft(
    *,
    teacher,
    topic: str,
    week_of: dt.date,
    subject: Category | None = None,
    grade_level: str = "",
) -> dict[str, Any]:
    """An unsaved draft plan: keyword arguments for content's `lesson_plan_create` (plus
    `objectives`). Raises PermissionDeniedError for non-teachers, NotFoundError when no active
    assistant has lesson planning, ValidationError for an empty topic."""
    if not lesson_planning_allowed(user=teacher):
        raise PermissionDeniedError("Only teachers can draft lesson plans.")
    if profile_with_capability(name=CapabilityName.LESSON_PLANNING) is None:
        raise NotFoundError("No assistant can plan lessons.", code="unknown_assistant")
    topic = " ".join((topic or "").split())
    if not topic:
        raise ValidationError({"topic": ["Say what the lesson is about."]})
    query = f"{topic} {subject.name if subject else ''}"
    templates = plan_templates_matching(teacher=teacher, text=query, limit=1)
    template = (
        LessonPlan.objects.filter(pk=templates[0].id, owner=teacher).first() if templates else None
    )
    lessons = lessons_matching(user=teacher, text=query, limit=3)
    if template is not None and template.activities:
        activities = [
            {
                "title": str(activity.get("title", "Activity")) or "Activity",
                "minutes": int(activity.get("minutes") or 10),
                "description": f"As in “{template.title}”, now on {topic}.",
            }
            for activity in template.activities
            if isinstance(activity, dict)
        ]
    else:
        activities = [
            {"title": title, "minutes": minutes, "description": text.format(topic=topic)}
            for title, minutes, text in DEFAULT_ACTIVITIES
        ]
    duration = sum(a["minutes"] for a in activities) or DURATION_BY_GRADE.get(grade_level, 45)
    materials = ["Whiteboard and markers", f"Worksheet: {topic}"]
    materials += [f"Lesson “{hit.title}” ({hit.course_title})" for hit in lessons]
    draft: dict[str, Any] = {
        "title": f"{topic[:1].upper()}{topic[1:]}"[:200],
        "week_of": monday_of(week_of),
        "subject_category": subject,
        "grade_level": grade_level,
        "content_area": (subject.name if subject else topic)[:100],
        "status": "draft",
        "lesson_data": {
            "duration_minutes": min(max(duration, 1), 600),
            "difficulty": "medium",
            "standards": [],
            "differentiation": "Offer worked examples to learners who need them; "
            "an extension problem to those who finish early.",
            "homework": f"Three short practice questions on {topic}.",
        },
        "materials": materials,
        "activities": activities,
        "assessment_criteria": [
            f"Explains the main idea of {topic} in their own words",
            "Solves the guided-practice problems correctly",
        ],
        "tags": ["assistant-draft"],
        "objectives": [
            f"Describe the key ideas of {topic}",
            f"Apply {topic} to a new example",
        ],
    }
    errors = _fields_errors(draft)
    if errors:  # a bug in the template above or an odd template plan: never hand it out
        raise ValidationError(errors)
    return draft


def lesson_plan_draft_save(*, teacher, draft: dict[str, Any]) -> LessonPlan:
    """Save a (possibly edited) draft as the teacher's draft lesson plan, validated by content.

    Raises what content's `lesson_plan_create` raises (ValidationError for bad values).
    """
    if not lesson_planning_allowed(user=teacher):
        raise PermissionDeniedError("Only teachers can draft lesson plans.")
    fields = dict(draft)
    return lesson_plan_create(owner=teacher, **{**fields, "status": "draft"})
