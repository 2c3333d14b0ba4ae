"""The provider interface: what a chat turn gives a model provider, and what it gets back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "system", "user" or "assistant"
    content: str


@dataclass(frozen=True)
class RecalledMemory:
    id: object
    content: str
    category: str
    importance: float
    confidence: float
    score: float


@dataclass(frozen=True)
class LessonHit:
    id: object
    title: str
    course_title: str
    course_slug: str


@dataclass(frozen=True)
class PlanTemplate:
    id: object
    title: str
    content_area: str
    activities: tuple[str, ...]


@dataclass(frozen=True)
class ModelSettings:
    """What a profile asks of the model (copied from AssistantProfile)."""

    model: str
    temperature: float
    top_p: float
    frequency_penalty: float
    presence_penalty: float
    stop: tuple[str, ...] = ()
    system_prompt: str = ""
    base_url: str = ""
    api_key: str = field(default="", repr=False)


@dataclass(frozen=True)
class TurnContext:
    """What the assistant knows for this turn, gathered by the service before the call."""

    assistant_name: str
    person_name: str
    memories: tuple[RecalledMemory, ...] = ()
    lessons: tuple[LessonHit, ...] = ()
    plan_templates: tuple[PlanTemplate, ...] = ()
    remember_requests: tuple[str, ...] = ()
    capabilities: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class ProviderReply:
    content: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    attempts: int = 1


class ProviderError(Exception):
    """The provider could not answer. `code` is stable (timeout, rate_limited, http_error,
    malformed_reply, unavailable, not_configured); `message` is safe to show to the person."""

    def __init__(self, code: str, message: str, *, attempts: int = 1):
        super().__init__(message)
        self.code = code
        self.message = message
        self.attempts = attempts


class Provider(Protocol):
    name: str

    def complete(
        self, *, settings: ModelSettings, messages: list[ChatMessage], context: TurnContext
    ) -> ProviderReply:
        """Answer the last user message. Raises ProviderError, never anything else expected."""
        ...


def count_tokens(text: str) -> int:
    """A rough token count (words) for providers that do not report usage."""
    return len(text.split())
