"""The API shell: one error body for every failure, auth, pagination, filters, OpenAPI."""

import pytest
import yaml
from rest_framework.authtoken.models import Token

from apps.accounts.services import personal_access_token_create
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    # 429 bodies also carry retry_after (the Retry-After header's seconds).
    assert set(body["error"]) - {"retry_after"} == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def test_unknown_api_url_answers_the_json_404(api_client):
    assert_error(api_client.get("/api/v1/no/such/thing/"), 404, "not_found")
    assert_error(api_client.get("/api/v2/"), 404, "not_found")


def test_unauthenticated_call_is_401(api_client):
    error = assert_error(api_client.get("/api/v1/accounts/me/"), 401, "not_authenticated")
    assert error["fields"] == {}


def test_personal_access_token_auth(api_client, user):
    _token, plaintext = personal_access_token_create(user=user, name="t", scopes=["users:read"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    response = api_client.get("/api/v1/accounts/me/")
    assert response.status_code == 200
    assert response.json()["email"] == user.email


def test_bad_token_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer lyc_pat_nope")
    assert_error(api_client.get("/api/v1/accounts/me/"), 401, "authentication_failed")
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-an-oauth-token")
    assert_error(api_client.get("/api/v1/accounts/me/"), 401, "authentication_failed")


def test_drf_tokens_no_longer_authenticate(api_client, user):
    token = Token.objects.create(user=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert_error(api_client.get("/api/v1/accounts/me/"), 401, "not_authenticated")


def test_session_auth(api_client, user):
    api_client.force_login(user)
    assert api_client.get("/api/v1/accounts/me/").json()["id"] == str(user.pk)


@pytest.mark.urls("tests.core.urls_api_errors")
def test_validation_errors_name_the_fields(api_client):
    error = assert_error(
        api_client.post("/api/v1/test/validates/", {"title": "too long", "count": -1}),
        400,
        "invalid",
    )
    assert set(error["fields"]) == {"title", "count"}
    assert all(isinstance(m, str) for msgs in error["fields"].values() for m in msgs)


@pytest.mark.urls("tests.core.urls_api_errors")
def test_permission_denied_is_403(api_client):
    assert_error(api_client.get("/api/v1/test/forbids/"), 403, "permission_denied")


@pytest.mark.urls("tests.core.urls_api_errors")
def test_domain_conflict_is_409_with_its_code(api_client):
    error = assert_error(api_client.post("/api/v1/test/conflicts/"), 409, "course_full")
    assert error["message"] == "The course is full."


@pytest.mark.urls("tests.core.urls_api_errors")
def test_throttling_is_429(api_client, redis_client):
    assert api_client.get("/api/v1/test/throttled/").status_code == 200
    error = assert_error(api_client.get("/api/v1/test/throttled/"), 429, "throttled")
    assert error["retry_after"] > 0


@pytest.mark.urls("tests.core.urls_api_errors")
def test_unexpected_error_is_a_json_500(api_client):
    api_client.raise_request_exception = False
    assert_error(api_client.get("/api/v1/test/crashes/"), 500, "server_error")


@pytest.mark.urls("tests.core.urls_api_errors")
def test_lists_are_paginated_and_filterable(api_client, user):
    api_client.force_login(user)
    UserFactory.create_batch(3, is_staff=True)
    body = api_client.get("/api/v1/test/users/", {"page_size": 2}).json()
    assert body["count"] == 4
    assert len(body["results"]) == 2
    assert body["next"]
    staff = api_client.get("/api/v1/test/users/", {"is_staff": "true"}).json()
    assert staff["count"] == 3


def test_openapi_schema_describes_the_api(client):
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/accounts/me/" in schema["paths"]
    security = schema["components"]["securitySchemes"]
    assert {"oauth2", "personalAccessToken", "cookieAuth"} <= set(security)
    # Nested Input/OutputSerializers are named after their view, so they never collide.
    assert "MeOutput" in schema["components"]["schemas"]


def test_api_docs_load_their_assets_locally(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn." not in html and "unpkg" not in html


def test_api_docs_assets_are_served(client):
    response = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert response.status_code == 200
    assert b"SwaggerUIBundle" in b"".join(response.streaming_content)
    response.close()
