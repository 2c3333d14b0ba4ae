"""Reads owned by assistants: profiles, memories, conversations, and the content an assistant
quotes (lessons, lesson-plan templates, course recommendations)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from apps.assistants.models import (
    AssistantCapability,
    AssistantProfile,
    Conversation,
    MemoryPreference,
    Message,
    UserMemory,
)
from apps.assistants.providers.base import LessonHit, PlanTemplate
from apps.content.models import Course, CoursePrerequisite, CourseStatus, Lesson, LessonPlan
from apps.content.selectors import course_visible_queryset
from apps.core.exceptions import NotFoundError
from apps.progress.models import Enrollment, EnrollmentStatus

WORD_RE = re.compile(r"[^\W_]{3,}", re.UNICODE)


def any_word_query(text: str, *, config: str = "english") -> SearchQuery | None:
    """A full-text query matching any word of `text` (None when it has no words)."""
    words = WORD_RE.findall(text)[:20]
    if not words:
        return None
    return SearchQuery(" or ".join(words), search_type="websearch", config=config)


# -- profiles -----------------------------------------------------------------------------


def profile_list(*, active_only: bool = True) -> QuerySet[AssistantProfile]:
    """Assistants with their enabled capabilities and categories loaded."""
    queryset = AssistantProfile.objects.prefetch_related(
        Prefetch(
            "capabilities",
            queryset=AssistantCapability.objects.filter(is_enabled=True).order_by(
                "-priority", "name"
            ),
            to_attr="enabled_capabilities",
        ),
        "categories",
    ).order_by("name")
    return queryset.filter(is_active=True) if active_only else queryset


def profile_get(*, profile_id) -> AssistantProfile:
    """An active assistant. Raises NotFoundError for unknown or inactive ones."""
    profile = profile_list().filter(pk=profile_id).first()
    if profile is None:
        raise NotFoundError("No such assistant.", code="unknown_assistant")
    return profile


def profile_capability_names(*, profile: AssistantProfile) -> frozenset[str]:
    enabled = getattr(profile, "enabled_capabilities", None)
    if enabled is None:
        enabled = profile.capabilities.filter(is_enabled=True)
    return frozenset(capability.name for capability in enabled)


def profile_with_capability(*, name: str) -> AssistantProfile | None:
    """The first active assistant (by name) with capability `name` enabled."""
    return (
        profile_list()
        .filter(capabilities__name=name, capabilities__is_enabled=True)
        .distinct()
        .first()
    )


# -- memories -----------------------------------------------------------------------------


def memory_enabled_for(*, user) -> bool:
    """Whether the person lets assistants store and recall memories (on unless turned off)."""
    preference = MemoryPreference.objects.filter(user=user).only("memory_enabled").first()
    return preference is None or preference.memory_enabled


def memory_list(*, user, profile=None, include_forgotten: bool = False) -> QuerySet[UserMemory]:
    """A person's memories (most recently changed first), with their assistant loaded."""
    queryset = UserMemory.objects.filter(user=user).select_related("profile")
    if not include_forgotten:
        queryset = queryset.filter(forgotten_at__isnull=True)
    if profile is not None:
        queryset = queryset.filter(profile=profile)
    return queryset.order_by("-updated_at", "id")


def memory_get(*, user, memory_id) -> UserMemory:
    """One of the person's own live memories. Raises NotFoundError for anyone else's."""
    memory = memory_list(user=user).filter(pk=memory_id).first()
    if memory is None:
        raise NotFoundError("No such memory.")
    return memory


# -- conversations ------------------------------------------------------------------------


def conversation_list(*, user, profile=None) -> QuerySet[Conversation]:
    queryset = Conversation.objects.filter(user=user).select_related("profile")
    if profile is not None:
        queryset = queryset.filter(profile=profile)
    return queryset.order_by("-updated_at")


def conversation_get(*, user, conversation_id) -> Conversation:
    """One of the person's conversations. Raises NotFoundError for anyone else's."""
    conversation = conversation_list(user=user).filter(pk=conversation_id).first()
    if conversation is None:
        raise NotFoundError("No such conversation.")
    return conversation


def conversation_messages(*, conversation: Conversation) -> QuerySet[Message]:
    return Message.objects.filter(conversation=conversation).order_by("id")


def conversation_history(*, conversation: Conversation, limit: int = 20) -> list[Message]:
    """The last `limit` answered messages, oldest first (what the provider is shown)."""
    recent = (
        Message.objects.filter(conversation=conversation, error_code="")
        .exclude(role="system")
        .order_by("-id")[:limit]
    )
    return list(reversed(recent))


# -- content the assistant quotes ---------------------------------------------------------


def lessons_matching(*, user, text: str, limit: int = 3) -> list[LessonHit]:
    """Lessons of courses `user` may see whose title or text shares words with `text`."""
    query = any_word_query(text)
    if query is None:
        return []
    vector = SearchVector("title", weight="A", config="english") + SearchVector(
        "content", weight="B", config="english"
    )
    lessons = (
        Lesson.objects.filter(module__course__in=course_visible_queryset(user=user))
        .annotate(rank=SearchRank(vector, query))
        .filter(rank__gt=0)
        .select_related("module__course")
        .order_by("-rank", "title")[:limit]
    )
    return [
        LessonHit(
            id=lesson.id,
            title=lesson.title,
            course_title=lesson.module.course.title,
            course_slug=lesson.module.course.slug,
        )
        for lesson in lessons
    ]


def plan_templates_matching(*, teacher, text: str, limit: int = 3) -> list[PlanTemplate]:
    """The teacher's own lesson plans sharing words with `text` (to start a new one from)."""
    query = any_word_query(text)
    if query is None:
        return []
    vector = SearchVector("title", weight="A", config="english") + SearchVector(
        "content_area", weight="B", config="english"
    )
    plans = (
        LessonPlan.objects.filter(owner=teacher)
        .annotate(rank=SearchRank(vector, query))
        .filter(rank__gt=0)
        .order_by("-rank", "-week_of")[:limit]
    )
    return [
        PlanTemplate(
            id=plan.id,
            title=plan.title,
            content_area=plan.content_area,
            activities=tuple(a.get("title", "") for a in plan.activities if isinstance(a, dict)),
        )
        for plan in plans
    ]


@dataclass(frozen=True)
class Recommendation:
    course: Course
    reason: str


def _recommendable(user) -> QuerySet[Course]:
    """Published courses `user` may see, does not teach and is not enrolled in."""
    return (
        course_visible_queryset(user=user)
        .filter(status=CourseStatus.PUBLISHED)
        .exclude(instructor=user)
        .exclude(
            pk__in=Enrollment.objects.filter(user=user)
            .exclude(status=EnrollmentStatus.DROPPED)
            .values("course_id")
        )
        .select_related("category")
    )


def _after_completed(user, seen: set) -> list[Recommendation]:
    """Courses whose prerequisite the person completed."""
    completed = dict(
        Enrollment.objects.filter(user=user, status=EnrollmentStatus.COMPLETED).values_list(
            "course_id", "course__title"
        )
    )
    if not completed:
        return []
    links = dict(
        CoursePrerequisite.objects.filter(prerequisite_id__in=completed).values_list(
            "course_id", "prerequisite_id"
        )
    )
    found = []
    for course in _recommendable(user).filter(pk__in=links).order_by("title"):
        seen.add(course.pk)
        found.append(
            Recommendation(
                course=course,
                reason=f"Because you completed {completed[links[course.pk]]}",
            )
        )
    return found


def recommendations_for(*, user, limit: int = 5) -> list[Recommendation]:
    """Courses to take next, each with the reason.

    First courses that follow one the person completed (its prerequisite), then courses
    matching what they told an assistant, then courses in the subjects of the assistants they
    use. Courses they teach or are enrolled in are left out.
    """
    seen: set = set()
    found: list[Recommendation] = _after_completed(user, seen)
    memories = list(
        memory_list(user=user)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .order_by("-importance", "-updated_at")[:5]
    )
    for memory in memories:
        query = any_word_query(memory.content)
        if query is None:
            continue
        for course in (
            _recommendable(user)
            .exclude(pk__in=seen)
            .filter(search_vector=query)
            .annotate(rank=SearchRank("search_vector", query))
            .order_by("-rank", "title")[:2]
        ):
            seen.add(course.pk)
            found.append(
                Recommendation(
                    course=course,
                    reason=f"Because you told {memory.profile.name}: “{memory.content}”",
                )
            )
    profiles = (
        AssistantProfile.active.filter(
            Q(memories__user=user, memories__forgotten_at__isnull=True)
            | Q(conversations__user=user)
        )
        .distinct()
        .prefetch_related("categories")
    )
    for profile in profiles:
        for category in profile.categories.all():
            for course in (
                _recommendable(user)
                .exclude(pk__in=seen)
                .filter(category__path__startswith=category.path)
                .order_by("-is_featured", "title")[:2]
            ):
                seen.add(course.pk)
                found.append(
                    Recommendation(
                        course=course,
                        reason=f"Because you use {profile.name} for {category.name}",
                    )
                )
    return found[:limit]
