"""A chat turn: the person's message, what the assistant knows, the provider's answer, the
usage register, and the memories the turn asked for. A provider failure is recorded on the
conversation and the person's message; it never raises."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.assistants.models import (
    AssistantProfile,
    CapabilityName,
    Conversation,
    MemorySource,
    Message,
    MessageRole,
    UsageRecord,
    UserMemory,
)
from apps.assistants.providers import ProviderError, provider_for
from apps.assistants.providers.base import ChatMessage, ModelSettings, ProviderReply, TurnContext
from apps.assistants.providers.openai import MEMORY_MARKER
from apps.assistants.selectors import (
    conversation_history,
    lessons_matching,
    memory_enabled_for,
    plan_templates_matching,
    profile_capability_names,
)
from apps.assistants.services.memories import memory_create, memory_recall
from apps.core.exceptions import NotFoundError, PermissionDeniedError
from apps.rbac.selectors import user_has_permission

MAX_MESSAGE = 4000
HISTORY_MESSAGES = 20

# "Remember that ...", "please remember: ...", "can you remember that ..." at a sentence start;
# not "do you remember that lesson?".
REMEMBER_RE = re.compile(
    r"(?:^|[.!?]\s+)(?:(?:please|can you|could you|and)\s+)?remember(?:\s+that|\s*:)\s+"
    r"(?P<fact>[^.!?\n]{3,500})",
    re.IGNORECASE,
)


def remember_requests_extract(text: str) -> list[str]:
    """The facts a message explicitly asks to be remembered."""
    return [match.group("fact").strip() for match in REMEMBER_RE.finditer(text.strip())]


def provider_memories_extract(content: str) -> tuple[str, list[str]]:
    """Split a provider's answer into what the person sees and the `[remember]` lines."""
    shown, facts = [], []
    for line in content.splitlines():
        stripped = line.strip()
        if stripped.lower().startswith(MEMORY_MARKER):
            fact = stripped[len(MEMORY_MARKER) :].strip(" :-")
            if fact:
                facts.append(fact[:500])
        else:
            shown.append(line)
    return "\n".join(shown).strip(), facts


@dataclass
class TurnResult:
    conversation: Conversation
    user_message: Message
    reply: Message | None = None
    memories: list[UserMemory] = field(default_factory=list)
    error_code: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.reply is not None


def _model_settings(profile: AssistantProfile) -> ModelSettings:
    configuration = profile.configuration or {}
    return ModelSettings(
        model=profile.model_version,
        temperature=profile.temperature,
        top_p=profile.top_p,
        frequency_penalty=profile.frequency_penalty,
        presence_penalty=profile.presence_penalty,
        stop=tuple(profile.stop_sequences),
        system_prompt=str(configuration.get("system_prompt", "")),
        base_url=str(configuration.get("base_url", "")),
        api_key=profile.api_key,
    )


def _validate_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"message": ["Write a message first."]})
    if len(text) > MAX_MESSAGE:
        raise ValidationError({"message": [f"At most {MAX_MESSAGE} characters."]})
    return text


def _context(*, user, profile, text, capabilities, memory_on) -> TurnContext:
    remember = remember_requests_extract(text) if memory_on else []
    memories = memory_recall(user=user, profile=profile, query=text) if memory_on else []
    templates = []
    if CapabilityName.LESSON_PLANNING in capabilities:
        templates = plan_templates_matching(teacher=user, text=text)
    return TurnContext(
        assistant_name=profile.name,
        person_name=user.get_short_name(),
        memories=tuple(memories),
        lessons=tuple(lessons_matching(user=user, text=text)),
        plan_templates=tuple(templates),
        remember_requests=tuple(remember),
        capabilities=capabilities,
    )


def chat_turn(
    *, user, profile: AssistantProfile, text: str, conversation: Conversation | None = None
) -> TurnResult:
    """Send `text` to `profile` in `conversation` (a new one when None) and record the answer.

    Raises ValidationError (empty or too long), PermissionDeniedError (no assistant.use),
    NotFoundError (inactive assistant, someone else's conversation). Provider failures do not
    raise: the result carries error_code/error, and the message, conversation and usage
    register record them; no answer and no memory is stored for a failed turn.
    """
    text = _validate_text(text)
    if not user_has_permission(user, "assistant.use"):
        raise PermissionDeniedError("You may not use the assistants.")
    if not profile.is_active:
        raise NotFoundError("No such assistant.", code="unknown_assistant")
    if conversation is not None and (
        conversation.user_id != user.pk or conversation.profile_id != profile.pk
    ):
        raise NotFoundError("No such conversation.")
    with transaction.atomic():
        if conversation is None:
            conversation = Conversation.objects.create(
                user=user, profile=profile, title=text[:80].splitlines()[0] or "Conversation"
            )
        history = conversation_history(conversation=conversation, limit=HISTORY_MESSAGES - 1)
        user_message = Message.objects.create(
            conversation=conversation, role=MessageRole.USER, content=text
        )
    capabilities = profile_capability_names(profile=profile)
    memory_on = CapabilityName.MEMORY in capabilities and memory_enabled_for(user=user)
    context = _context(
        user=user, profile=profile, text=text, capabilities=capabilities, memory_on=memory_on
    )
    messages = [ChatMessage(m.role, m.content) for m in history] + [ChatMessage("user", text)]
    started = time.monotonic()
    result = TurnResult(conversation=conversation, user_message=user_message)
    try:
        provider = provider_for(profile.provider)
        reply = provider.complete(
            settings=_model_settings(profile), messages=messages, context=context
        )
    except ProviderError as error:
        _record_failure(
            result,
            profile=profile,
            provider_name=profile.provider or "default",
            error=error,
            latency_ms=_elapsed(started),
        )
        return result
    _record_reply(
        result,
        profile=profile,
        provider_name=provider.name,
        reply=reply,
        latency_ms=_elapsed(started),
        context=context,
        memory_on=memory_on,
    )
    return result


def _elapsed(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


@transaction.atomic
def _record_failure(result: TurnResult, *, profile, provider_name, error, latency_ms) -> None:
    now = timezone.now()
    message = result.user_message
    message.error_code, message.error = error.code, error.message
    message.save(update_fields=["error_code", "error"])
    conversation = result.conversation
    conversation.last_error_code, conversation.last_error = error.code, error.message
    conversation.last_error_at = now
    conversation.save(
        update_fields=["last_error_code", "last_error", "last_error_at", "updated_at"]
    )
    UsageRecord.objects.create(
        user=conversation.user,
        profile=profile,
        conversation=conversation,
        provider=provider_name,
        model=profile.model_version,
        latency_ms=latency_ms,
        attempts=error.attempts,
        success=False,
        error_code=error.code,
    )
    result.error_code, result.error = error.code, error.message


@transaction.atomic
def _record_reply(
    result: TurnResult,
    *,
    profile,
    provider_name: str,
    reply: ProviderReply,
    latency_ms: int,
    context: TurnContext,
    memory_on: bool,
) -> None:
    conversation = result.conversation
    shown, proposed = provider_memories_extract(reply.content)
    result.reply = Message.objects.create(
        conversation=conversation,
        role=MessageRole.ASSISTANT,
        content=shown or "…",
        prompt_tokens=reply.prompt_tokens,
        completion_tokens=reply.completion_tokens,
        latency_ms=latency_ms,
        provider=provider_name,
        model=reply.model[:100],
    )
    UsageRecord.objects.create(
        user=conversation.user,
        profile=profile,
        conversation=conversation,
        provider=provider_name,
        model=reply.model[:100],
        prompt_tokens=reply.prompt_tokens,
        completion_tokens=reply.completion_tokens,
        latency_ms=latency_ms,
        attempts=reply.attempts,
        success=True,
    )
    conversation.save(update_fields=["updated_at"])
    if not memory_on:
        return
    origin = {"conversation": str(conversation.pk), "message": result.user_message.pk}
    for fact in context.remember_requests:
        result.memories.append(
            memory_create(
                user=conversation.user,
                profile=profile,
                content=fact,
                importance=0.7,
                confidence=1.0,
                source=MemorySource.CONVERSATION,
                context=origin,
            )
        )
    for fact in proposed:
        result.memories.append(
            memory_create(
                user=conversation.user,
                profile=profile,
                content=fact,
                importance=0.5,
                confidence=0.6,
                source=MemorySource.PROVIDER,
                context=origin,
            )
        )
