"""Personal access tokens: scoped, expiring, hashed at rest, shown once, revocable (ADR 0018)."""

import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.accounts.models import PersonalAccessToken
from apps.accounts.services import personal_access_token_create
from apps.core.exceptions import DomainError
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

TOKENS = "/api/v1/accounts/me/tokens/"


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_created_over_the_api_once_in_clear_then_only_its_hash(client, user):
    client.force_login(user)
    response = client.post(
        TOKENS,
        {"name": "ci", "scopes": ["courses:read", "users:read"], "expires_in_days": 7},
        "application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    plaintext = body["token"]
    assert plaintext.startswith("lyc_pat_") and len(plaintext) > 40
    assert body["prefix"] == plaintext[:14]
    stored = PersonalAccessToken.objects.get(pk=body["id"])
    assert stored.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute('SELECT row_to_json(t)::text FROM "accounts"."personal_access_token" t')
        assert plaintext not in cursor.fetchone()[0]
    listed = client.get(TOKENS).json()["results"]
    assert [t["id"] for t in listed] == [body["id"]]
    assert "token" not in listed[0]
    assert client.get("/api/v1/accounts/me/", **bearer(plaintext)).status_code == 200


def test_revoked_token_is_401(client, user):
    token, plaintext = personal_access_token_create(user=user, name="t", scopes=["tokens:write"])
    assert client.get("/api/v1/accounts/me/", **bearer(plaintext)).status_code == 403  # scope
    assert client.delete(f"{TOKENS}{token.pk}/", **bearer(plaintext)).status_code == 204
    response = client.get("/api/v1/accounts/me/", **bearer(plaintext))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_expired_token_is_401(client, user):
    token, plaintext = personal_access_token_create(user=user, name="t", scopes=["users:read"])
    assert client.get("/api/v1/accounts/me/", **bearer(plaintext)).status_code == 200
    PersonalAccessToken.objects.filter(pk=token.pk).update(
        created_at=timezone.now() - timedelta(days=2),
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    assert client.get("/api/v1/accounts/me/", **bearer(plaintext)).status_code == 401


def test_a_token_cannot_create_a_wider_token(client, user):
    _token, plaintext = personal_access_token_create(
        user=user, name="t", scopes=["tokens:write", "courses:read"]
    )
    wider = client.post(
        TOKENS, {"name": "x", "scopes": ["courses:write"]}, "application/json", **bearer(plaintext)
    )
    assert wider.status_code == 403
    assert wider.json()["error"]["code"] == "insufficient_scope"
    narrower = client.post(
        TOKENS, {"name": "x", "scopes": ["courses:read"]}, "application/json", **bearer(plaintext)
    )
    assert narrower.status_code == 201


def test_unknown_scopes_and_lifetimes_are_refused(user):
    with pytest.raises(DomainError):
        personal_access_token_create(user=user, name="t", scopes=["everything:write"])
    with pytest.raises(DomainError):
        personal_access_token_create(user=user, name="t", scopes=[])
    with pytest.raises(DomainError):
        personal_access_token_create(
            user=user, name="t", scopes=["users:read"], expires_in_days=10_000
        )


def test_other_users_tokens_are_invisible(client, user):
    other_token, _ = personal_access_token_create(
        user=UserFactory(), name="t", scopes=["users:read"]
    )
    client.force_login(user)
    assert client.get(f"{TOKENS}{other_token.pk}/").status_code == 404
    assert client.delete(f"{TOKENS}{other_token.pk}/").status_code == 404


def test_account_page_makes_shows_once_and_revokes(client, user):
    client.force_login(user)
    page = client.post(
        "/accounts/security/tokens/",
        {"name": "laptop", "scopes": ["courses:read"], "expires_in_days": "30"},
    )
    assert page.status_code == 200
    token = PersonalAccessToken.objects.get(user=user)
    html = page.content.decode()
    assert 'data-testid="token-plaintext"' in html and token.prefix in html
    assert token.prefix in client.get("/accounts/security/tokens/").content.decode()
    client.post("/accounts/security/tokens/", {"revoke": str(token.pk)})
    token.refresh_from_db()
    assert token.revoked_at is not None
