"""Rate limits answer 429: login, sign-up and password reset pages (django-ratelimit, Redis) and
the API (DRF throttles, Redis) with Retry-After and the error body (ADR 0016)."""

import uuid

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from rest_framework.throttling import SimpleRateThrottle

from apps.core.ratelimit import rate_period_seconds
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _limits(**rates):
    """Low, fresh limits: the rate is part of django-ratelimit's counter key, so a rate no other
    test uses starts from zero even though Redis keeps counters between tests."""
    tag = uuid.uuid4().int % 1000 + 1
    base = {
        "login": "100000/m",
        "signup": "100000/m",
        "password_reset": "100000/m",
        "password_reset_email": "100000/m",
        "oauth_token": "100000/m",
    }
    base.update({name: f"{count}/{tag}h" for name, count in rates.items()})
    return override_settings(PAGE_RATE_LIMITS=base)


def _client(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def test_rate_periods():
    assert rate_period_seconds("30/m") == 60
    assert rate_period_seconds("3/h") == 3600
    assert rate_period_seconds("5/15m") == 900


def test_login_attempts_from_one_address_over_the_limit_get_the_429_page():
    user = UserFactory()
    with _limits(login=3):
        client = _client("203.0.113.7")
        for n in range(3):
            # Different accounts: django-axes (per account) would not stop this.
            response = client.post(
                reverse("accounts:login"), {"username": f"nobody{n}@example.org", "password": "x"}
            )
            assert response.status_code == 200
        response = client.post(
            reverse("accounts:login"), {"username": user.email, "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 429
        assert int(response["Retry-After"]) > 0
        assert b"Too many attempts" in response.content
        # Reading the page is not limited, and another address is not affected.
        assert client.get(reverse("accounts:login")).status_code == 200
        other = _client("203.0.113.8").post(
            reverse("accounts:login"), {"username": user.email, "password": DEFAULT_PASSWORD}
        )
        assert other.status_code == 302


def test_signups_from_one_address_over_the_limit_get_429():
    with _limits(signup=2):
        client = _client("203.0.113.9")
        codes = []
        for n in range(3):
            client.logout()
            response = client.post(
                reverse("accounts:signup"),
                {
                    "email": f"new{n}-{uuid.uuid4().hex[:6]}@example.org",
                    "username": f"new{n}{uuid.uuid4().hex[:6]}",
                    "first_name": "New",
                    "last_name": "Person",
                    "password1": "a long enough passphrase",
                    "password2": "a long enough passphrase",
                },
            )
            codes.append(response.status_code)
        assert codes[-1] == 429 and 429 not in codes[:-1], codes


def test_password_reset_is_limited_per_address_and_per_e_mail(mailoutbox):
    user = UserFactory()
    url = reverse("accounts:password_reset")
    with _limits(password_reset_email=2):
        codes = [
            _client(f"198.51.100.{n}").post(url, {"email": user.email}).status_code
            for n in range(3)
        ]
        assert codes == [302, 302, 429]
        assert len(mailoutbox) == 2
    with _limits(password_reset=2):
        client = _client("198.51.100.50")
        codes = [client.post(url, {"email": f"x{n}@example.org"}).status_code for n in range(3)]
        assert codes == [302, 302, 429]


def test_api_over_the_throttle_answers_429_with_retry_after_and_the_error_body(
    api_client, monkeypatch
):
    # Every rate throttle in DEFAULT_THROTTLE_CLASSES counts 2 a minute; a new user, new counter.
    monkeypatch.setattr(SimpleRateThrottle, "rate", "2/minute", raising=False)
    api_client.force_authenticate(UserFactory())
    codes = [api_client.get("/api/v1/content/courses/").status_code for _ in range(2)]
    assert codes == [200, 200]
    throttled = api_client.get("/api/v1/content/courses/")
    assert throttled.status_code == 429
    retry_after = int(throttled["Retry-After"])
    assert 0 < retry_after <= 60
    error = throttled.json()["error"]
    assert error["code"] == "throttled"
    assert error["retry_after"] == retry_after


def test_oauth_token_requests_from_one_address_over_the_limit_get_a_json_429():
    """Each token request checks a client secret with the password hasher: one address cannot
    make the server hash without end (nor try secrets or codes without end)."""
    with _limits(oauth_token=2):
        client = _client("203.0.113.9")
        for _ in range(2):
            response = client.post(
                "/oauth/token/", {"grant_type": "client_credentials", "client_id": "nobody"}
            )
            assert response.status_code == 401  # an unknown client: DOT's own answer
        response = client.post(
            "/oauth/token/", {"grant_type": "client_credentials", "client_id": "nobody"}
        )
        assert response.status_code == 429
        assert int(response["Retry-After"]) > 0
        assert response.json()["error"] == "rate_limited"
        other = _client("203.0.113.10").post(
            "/oauth/token/", {"grant_type": "client_credentials", "client_id": "nobody"}
        )
        assert other.status_code == 401
