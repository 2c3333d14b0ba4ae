"""A database outage answers 503 at once (API error body, a friendly page), not a 500.

The drill with a real PostgreSQL stopped under load is tests/faults/test_postgres_restart.py."""

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.core.outage_urls")]


@pytest.fixture
def client(client):
    client.raise_request_exception = False
    return client


def test_api_answers_503_with_the_error_body(client):
    response = client.get("/api/v1/unreachable/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "service_unavailable"


@pytest.mark.parametrize("path", ["/unreachable/", "/closed/"])
def test_pages_answer_a_friendly_503(client, path):
    response = client.get(path)
    assert response.status_code == 503
    assert b"Back in a moment" in response.content


def test_other_errors_stay_500(client):
    assert client.get("/bug/").status_code == 500


def test_connections_fail_fast(settings):
    assert settings.DATABASES["default"]["OPTIONS"]["connect_timeout"] <= 5
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
