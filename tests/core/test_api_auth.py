"""OAuth 2 (client credentials; authorization code with PKCE), token expiry and revocation,
scopes on a token versus a browser session (ADR 0018)."""

import base64
import hashlib
import secrets
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

SECRET = "s3cret-client-secret"
REDIRECT = "http://127.0.0.1:9999/callback"


@pytest.fixture
def owner(db):
    return UserFactory(email="integration@example.org")


@pytest.fixture
def server_app(owner):
    return Application.objects.create(
        name="Server integration",
        user=owner,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=SECRET,
    )


def client_credentials_token(client, app, scope: str):
    basic = base64.b64encode(f"{app.client_id}:{SECRET}".encode()).decode()
    return client.post(
        "/oauth/token/",
        {"grant_type": "client_credentials", "scope": scope},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_client_credentials_token_acts_as_the_application_owner(client, server_app, owner):
    response = client_credentials_token(client, server_app, "users:read courses:read")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert set(body["scope"].split()) == {"users:read", "courses:read"}
    assert 0 < body["expires_in"] <= 3600
    me = client.get("/api/v1/accounts/me/", **bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["id"] == str(owner.pk)


def test_tokens_are_hashed_at_rest(client, server_app):
    plaintext = client_credentials_token(client, server_app, "users:read").json()["access_token"]
    stored = AccessToken.objects.get(application=server_app)
    assert plaintext not in (stored.token, stored.token_checksum)
    assert stored.token_checksum == hashlib.sha256(plaintext.encode()).hexdigest()


def test_unknown_scope_is_refused(client, server_app):
    response = client_credentials_token(client, server_app, "courses:read everything:write")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_a_missing_scope_is_403_with_a_machine_readable_body(client, server_app):
    token = client_credentials_token(client, server_app, "courses:read").json()["access_token"]
    response = client.patch("/api/v1/accounts/me/", {}, "application/json", **bearer(token))
    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "insufficient_scope",
        "message": "The token lacks the scope users:write.",
        "fields": {"scope": ["users:write"]},
    }


def test_expired_token_is_401(client, server_app):
    token = client_credentials_token(client, server_app, "users:read").json()["access_token"]
    assert client.get("/api/v1/accounts/me/", **bearer(token)).status_code == 200
    AccessToken.objects.filter(application=server_app).update(
        expires=timezone.now() - timedelta(seconds=1)
    )
    response = client.get("/api/v1/accounts/me/", **bearer(token))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_is_401(client, server_app):
    token = client_credentials_token(client, server_app, "users:read").json()["access_token"]
    assert client.get("/api/v1/accounts/me/", **bearer(token)).status_code == 200
    revoked = client.post(
        "/oauth/revoke_token/",
        {"token": token, "client_id": server_app.client_id, "client_secret": SECRET},
    )
    assert revoked.status_code == 200
    response = client.get("/api/v1/accounts/me/", **bearer(token))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_an_invalid_token_on_a_public_endpoint_is_401_not_anonymous(client):
    assert client.get("/api/v1/content/courses/").status_code == 200
    response = client.get("/api/v1/content/courses/", **bearer("made-up"))
    assert response.status_code == 401


def test_application_without_owner_cannot_call_the_api(client):
    app = Application.objects.create(
        name="Orphan",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=SECRET,
    )
    token = client_credentials_token(client, app, "courses:read").json()["access_token"]
    assert client.get("/api/v1/content/courses/", **bearer(token)).status_code == 401


def test_session_needs_no_scope(client, user):
    client.force_login(user)
    assert client.get("/api/v1/accounts/me/").status_code == 200
    assert client.patch("/api/v1/accounts/me/", {}, "application/json").status_code == 200


# -- authorization code with PKCE ----------------------------------------------------------


@pytest.fixture
def user_app(owner):
    return Application.objects.create(
        name="Learner app",
        user=owner,
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT,
        client_secret="",
    )


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize(client, app, challenge: str | None, method: str = "S256"):
    data = {
        "client_id": app.client_id,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "users:read enrollments:read",
        "state": "xyz",
        "allow": "Authorize",
    }
    if challenge is not None:
        data |= {"code_challenge": challenge, "code_challenge_method": method}
    return client.post("/oauth/authorize/", data)


def test_authorization_code_with_pkce(client, user_app):
    learner = UserFactory()
    client.force_login(learner)
    _verifier, challenge = pkce_pair()
    consent = client.get(
        "/oauth/authorize/",
        {
            "client_id": user_app.client_id,
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "scope": "users:read enrollments:read",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    assert consent.status_code == 200
    response = authorize(client, user_app, challenge)
    assert response.status_code == 302
    query = parse_qs(urlparse(response["Location"]).query)
    assert query["state"] == ["xyz"]
    code = query["code"][0]
    client.logout()

    wrong = client.post(
        "/oauth/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": user_app.client_id,
            "code_verifier": pkce_pair()[0],
        },
    )
    assert wrong.status_code == 400

    verifier2, challenge2 = pkce_pair()
    client.force_login(learner)
    code = parse_qs(urlparse(authorize(client, user_app, challenge2)["Location"]).query)["code"][0]
    client.logout()
    token = client.post(
        "/oauth/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": user_app.client_id,
            "code_verifier": verifier2,
        },
    )
    assert token.status_code == 200, token.content
    access = token.json()["access_token"]
    assert token.json()["refresh_token"]
    me = client.get("/api/v1/accounts/me/", **bearer(access))
    assert me.json()["id"] == str(learner.pk)  # acts for the user who consented
    assert client.patch("/api/v1/accounts/me/", {}, "application/json", **bearer(access)).json()[
        "error"
    ]["code"] == ("insufficient_scope")


def test_authorization_code_without_pkce_is_refused(client, user_app):
    client.force_login(UserFactory())
    response = authorize(client, user_app, None)
    assert response.status_code == 302
    assert "code=" not in response["Location"]
    assert "error=invalid_request" in response["Location"]


def test_plain_pkce_is_refused(client, user_app):
    client.force_login(UserFactory())
    verifier, _ = pkce_pair()
    response = authorize(client, user_app, verifier, method="plain")
    assert "code=" not in response.get("Location", "")
