"""An OpenAI-compatible chat-completions client (OpenAI, Azure-style gateways, vLLM, Ollama...).

POST {base_url}/chat/completions with the profile's sampling parameters. Each attempt has a
timeout (ASSISTANT_HTTP_TIMEOUT); 429 and 5xx answers and connection failures are retried up to
ASSISTANT_HTTP_MAX_ATTEMPTS with exponential backoff (ASSISTANT_HTTP_BACKOFF, doubling, or the
server's Retry-After when smaller than 30 s). A timeout is not retried: a model that was too slow
once is likely to be again, and the person is waiting. Every failure is a ProviderError.
"""

from __future__ import annotations

import contextlib
import time

import httpx
from django.conf import settings as django_settings

from apps.assistants.providers.base import (
    ChatMessage,
    ModelSettings,
    ProviderError,
    ProviderReply,
    TurnContext,
)

MEMORY_MARKER = "[remember]"
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 30.0


def system_prompt(settings: ModelSettings, context: TurnContext) -> str:
    """The system message: the profile's prompt, what is remembered, matching lessons."""
    lines = [
        settings.system_prompt
        or f"You are {context.assistant_name}, a learning assistant on the Lyceum platform.",
        f"You are talking to {context.person_name}.",
    ]
    if context.memories:
        lines.append("What you remember about them (most relevant first):")
        lines += [f"- {memory.content}" for memory in context.memories]
    if context.lessons:
        lines.append("Lessons on the platform that match the question:")
        lines += [f"- {hit.title} (course: {hit.course_title})" for hit in context.lessons]
    if "memory" in context.capabilities:
        lines.append(
            f"If they tell you a lasting fact or preference worth remembering, add a line "
            f"starting with {MEMORY_MARKER} followed by that fact in one sentence."
        )
    return "\n".join(lines)


class OpenAICompatibleProvider:
    name = "openai"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        max_attempts: int | None = None,
        backoff: float | None = None,
        transport: httpx.BaseTransport | None = None,
    ):
        self.base_url = base_url
        self.api_key = django_settings.ASSISTANT_OPENAI_API_KEY if api_key is None else api_key
        self.timeout = django_settings.ASSISTANT_HTTP_TIMEOUT if timeout is None else timeout
        self.max_attempts = max(
            1, django_settings.ASSISTANT_HTTP_MAX_ATTEMPTS if max_attempts is None else max_attempts
        )
        self.backoff = django_settings.ASSISTANT_HTTP_BACKOFF if backoff is None else backoff
        self.transport = transport

    def _payload(self, settings: ModelSettings, messages: list[ChatMessage], context) -> dict:
        payload = {
            "model": django_settings.ASSISTANT_OPENAI_MODEL or settings.model,
            "messages": [{"role": "system", "content": system_prompt(settings, context)}]
            + [{"role": m.role, "content": m.content} for m in messages],
            "temperature": settings.temperature,
            "top_p": settings.top_p,
            "frequency_penalty": settings.frequency_penalty,
            "presence_penalty": settings.presence_penalty,
        }
        if settings.stop:
            payload["stop"] = list(settings.stop)
        return payload

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        delay = self.backoff * (2 ** (attempt - 1))
        retry_after = response.headers.get("retry-after") if response is not None else None
        if retry_after:
            with contextlib.suppress(ValueError):
                delay = min(max(float(retry_after), 0.0), MAX_RETRY_AFTER)
        return delay

    def complete(
        self, *, settings: ModelSettings, messages: list[ChatMessage], context: TurnContext
    ) -> ProviderReply:
        base_url = settings.base_url or self.base_url or django_settings.ASSISTANT_OPENAI_BASE_URL
        if not base_url:
            raise ProviderError("not_configured", "The assistant's model service is not set up.")
        headers = {"Accept": "application/json"}
        api_key = settings.api_key or self.api_key
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        payload = self._payload(settings, messages, context)
        with httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            timeout=httpx.Timeout(self.timeout),
            headers=headers,
            transport=self.transport,
        ) as client:
            for attempt in range(1, self.max_attempts + 1):
                response = None
                try:
                    response = client.post("chat/completions", json=payload)
                except httpx.TimeoutException as exc:
                    raise ProviderError(
                        "timeout",
                        f"The model service did not answer within {self.timeout:g} s.",
                        attempts=attempt,
                    ) from exc
                except httpx.TransportError as exc:
                    if attempt == self.max_attempts:
                        raise ProviderError(
                            "unavailable", "The model service cannot be reached.", attempts=attempt
                        ) from exc
                else:
                    if response.status_code not in RETRY_STATUS:
                        return self._reply(response, settings, attempt)
                    if attempt == self.max_attempts:
                        code = "rate_limited" if response.status_code == 429 else "http_error"
                        raise ProviderError(
                            code,
                            f"The model service answered {response.status_code} "
                            f"after {attempt} attempts.",
                            attempts=attempt,
                        )
                time.sleep(self._delay(attempt, response))
        raise AssertionError("unreachable")  # pragma: no cover

    def _reply(self, response: httpx.Response, settings: ModelSettings, attempt: int):
        if response.status_code >= 400:
            raise ProviderError(
                "http_error",
                f"The model service refused the request ({response.status_code}).",
                attempts=attempt,
            )
        try:
            body = response.json()
            content = body["choices"][0]["message"]["content"]
            if not isinstance(content, str) or not content.strip():
                raise TypeError("empty content")
            usage = body.get("usage") or {}
            prompt_tokens = int(usage.get("prompt_tokens") or 0)
            completion_tokens = int(usage.get("completion_tokens") or 0)
            model = str(body.get("model") or settings.model)
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise ProviderError(
                "malformed_reply",
                "The model service sent a reply that could not be read.",
                attempts=attempt,
            ) from exc
        return ProviderReply(
            content=content.strip(),
            model=model,
            prompt_tokens=max(prompt_tokens, 0),
            completion_tokens=max(completion_tokens, 0),
            attempts=attempt,
        )
