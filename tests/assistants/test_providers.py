"""The OpenAI-compatible client against a real local HTTP server; the offline provider."""

import time

import pytest

from apps.assistants.providers.base import (
    ChatMessage,
    LessonHit,
    ModelSettings,
    ProviderError,
    RecalledMemory,
    TurnContext,
)
from apps.assistants.providers.offline import OfflineProvider
from apps.assistants.providers.openai import OpenAICompatibleProvider
from tests.assistants.fake_server import FakeChatServer, completion

SETTINGS = ModelSettings(
    model="gpt-test",
    temperature=0.3,
    top_p=0.9,
    frequency_penalty=0.1,
    presence_penalty=0.2,
    stop=("END",),
)
CONTEXT = TurnContext(
    assistant_name="Tutor",
    person_name="Sofia",
    memories=(RecalledMemory(1, "Prefers short answers", "", 0.5, 1.0, 0.7),),
    capabilities=frozenset({"memory"}),
)
MESSAGES = [ChatMessage("user", "Explain fractions")]


def client(server, **kwargs):
    options = {"api_key": "sk-test", "timeout": 2.0, "max_attempts": 3, "backoff": 0.01}
    options.update(kwargs)
    return OpenAICompatibleProvider(base_url=server.url, **options)


def failure(script, **kwargs):
    """Run one completion against `script`; return the ProviderError and the server."""
    with FakeChatServer(script) as server, pytest.raises(ProviderError) as caught:
        client(server, **kwargs).complete(settings=SETTINGS, messages=MESSAGES, context=CONTEXT)
    return caught.value, server


def test_success_sends_the_profile_parameters_and_reads_usage():
    with FakeChatServer([(200, completion("Halves and quarters."), 0, {})]) as server:
        reply = client(server).complete(settings=SETTINGS, messages=MESSAGES, context=CONTEXT)
    assert reply.content == "Halves and quarters."
    assert (reply.prompt_tokens, reply.completion_tokens, reply.model) == (12, 7, "fake-model")
    assert reply.attempts == 1
    path, headers, body = server.requests[0]
    assert path == "/v1/chat/completions"
    assert headers["Authorization"] == "Bearer sk-test"
    assert body["model"] == "gpt-test" and body["temperature"] == 0.3 and body["top_p"] == 0.9
    assert body["stop"] == ["END"]
    assert body["messages"][0]["role"] == "system"
    assert "Prefers short answers" in body["messages"][0]["content"]
    assert body["messages"][1:] == [{"role": "user", "content": "Explain fractions"}]


def test_429_is_retried_with_backoff_then_succeeds():
    script = [
        (429, {"error": {"message": "slow down"}}, 0, {"Retry-After": "0.2"}),
        (200, completion("Now it works."), 0, {}),
    ]
    with FakeChatServer(script) as server:
        started = time.monotonic()
        reply = client(server).complete(settings=SETTINGS, messages=MESSAGES, context=CONTEXT)
        waited = time.monotonic() - started
    assert reply.content == "Now it works." and reply.attempts == 2
    assert len(server.requests) == 2
    assert waited >= 0.2  # Retry-After was honoured


def test_5xx_until_attempts_run_out_is_an_http_error():
    error, server = failure([(503, {"error": "down"}, 0, {})])
    assert error.code == "http_error" and error.attempts == 3
    assert len(server.requests) == 3


def test_persistent_429_is_rate_limited():
    error, _ = failure([(429, {}, 0, {})], max_attempts=2)
    assert error.code == "rate_limited"


def test_timeout_is_an_error_and_not_retried():
    error, server = failure([(200, completion("too late"), 1.0, {})], timeout=0.2)
    assert error.code == "timeout"
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "body",
    [b"this is not json", {"choices": []}, {"choices": [{"message": {"content": None}}]}, b"[]"],
    ids=["not-json", "no-choices", "null-content", "array"],
)
def test_malformed_reply_is_an_error(body):
    error, _ = failure([(200, body, 0, {})])
    assert error.code == "malformed_reply"


def test_client_errors_are_not_retried():
    error, server = failure([(401, {"error": "bad key"}, 0, {})])
    assert error.code == "http_error" and len(server.requests) == 1


def test_nothing_listening_is_unavailable():
    with FakeChatServer([]) as server:
        url = server.url
    provider = OpenAICompatibleProvider(base_url=url, timeout=1, max_attempts=2, backoff=0.01)
    with pytest.raises(ProviderError) as caught:
        provider.complete(settings=SETTINGS, messages=MESSAGES, context=CONTEXT)
    assert caught.value.code == "unavailable"


def test_offline_provider_answers_from_memories_lessons_and_remember_requests():
    context = TurnContext(
        assistant_name="Tutor",
        person_name="Sofia",
        memories=(RecalledMemory(1, "Finds fractions hard", "", 0.5, 1.0, 0.7),),
        lessons=(LessonHit(2, "Adding fractions", "Maths 1", "maths-1"),),
        remember_requests=("my exam is on Friday",),
    )
    reply = OfflineProvider().complete(settings=SETTINGS, messages=MESSAGES, context=context)
    assert "Noted, I will remember that my exam is on Friday." in reply.content
    assert "- Finds fractions hard" in reply.content
    assert "- Adding fractions (in Maths 1)" in reply.content
    assert reply.prompt_tokens == 2 and reply.completion_tokens > 0


def test_offline_provider_says_when_it_knows_nothing():
    reply = OfflineProvider().complete(
        settings=SETTINGS, messages=MESSAGES, context=TurnContext("Tutor", "Sofia")
    )
    assert "found nothing" in reply.content
