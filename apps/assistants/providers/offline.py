"""The built-in provider: answers from what the service gathered (recalled memories, matching
lessons, the teacher's lesson plans), with no network. The default, and the demo's."""

from __future__ import annotations

from apps.assistants.providers.base import (
    ChatMessage,
    ModelSettings,
    ProviderReply,
    TurnContext,
    count_tokens,
)

OFFLINE_MODEL = "lyceum-offline-1"


class OfflineProvider:
    name = "offline"

    def complete(
        self, *, settings: ModelSettings, messages: list[ChatMessage], context: TurnContext
    ) -> ProviderReply:
        paragraphs = []
        for fact in context.remember_requests:
            paragraphs.append(f"Noted, I will remember that {fact}.")
        if context.memories:
            paragraphs.append(
                "From what you have told me:\n"
                + "\n".join(f"- {memory.content}" for memory in context.memories)
            )
        if context.lessons:
            paragraphs.append(
                "Lessons that match your question:\n"
                + "\n".join(f"- {hit.title} (in {hit.course_title})" for hit in context.lessons)
            )
        if context.plan_templates:
            paragraphs.append(
                "Lesson plans of yours you could start from:\n"
                + "\n".join(
                    f"- {plan.title}" + (f" ({plan.content_area})" if plan.content_area else "")
                    for plan in context.plan_templates
                )
            )
        if not paragraphs:
            paragraphs.append(
                f"I am {context.assistant_name}, working offline. I found nothing about that in "
                "your memories or the lessons yet. Tell me more, or ask me to "
                "“remember that …” something for next time."
            )
        content = "\n\n".join(paragraphs)
        prompt = " ".join(message.content for message in messages)
        return ProviderReply(
            content=content,
            model=OFFLINE_MODEL,
            prompt_tokens=count_tokens(prompt),
            completion_tokens=count_tokens(content),
        )
