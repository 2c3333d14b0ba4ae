"""API conventions (ADR 0018): throttles per client with Retry-After, ETags on detail endpoints,
cursor pagination on the audit lists."""

import pytest

from apps.accounts.services import personal_access_token_create
from apps.audit.services import domain_event_record
from apps.core.api.throttling import ClientRateThrottle
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/accounts/me/"


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_throttle_is_per_client_with_retry_after(client, user, redis_client, monkeypatch):
    monkeypatch.setattr(ClientRateThrottle, "rate", "2/minute", raising=False)
    _, first = personal_access_token_create(user=user, name="a", scopes=["users:read"])
    _, second = personal_access_token_create(user=user, name="b", scopes=["users:read"])
    assert client.get(ME, **bearer(first)).status_code == 200
    assert client.get(ME, **bearer(first)).status_code == 200
    limited = client.get(ME, **bearer(first))
    assert limited.status_code == 429
    assert 0 < int(limited["Retry-After"]) <= 60
    assert limited.json()["error"]["code"] == "throttled"
    # Another token of the same user is another client, with its own budget.
    assert client.get(ME, **bearer(second)).status_code == 200


def test_etag_and_if_none_match(client, user):
    client.force_login(user)
    response = client.get(ME)
    etag = response["ETag"]
    assert etag.startswith('W/"')
    not_modified = client.get(ME, HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified["ETag"] == etag
    assert client.get(ME, HTTP_IF_NONE_MATCH=etag.removeprefix("W/")).status_code == 304
    client.patch(ME, {"first_name": "Changed"}, "application/json")
    changed = client.get(ME, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_domain_events_are_cursor_paginated(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    aggregate = UserFactory().pk
    for number in range(5):
        domain_event_record(
            aggregate_type="user", aggregate_id=aggregate, event_type=f"test.{number}"
        )
    url = f"/api/v1/audit/domain-events/?aggregate_type=user&aggregate_id={aggregate}&page_size=2"
    seen = []
    while url:
        body = client.get(url).json()
        assert "count" not in body
        seen += [event["event_type"] for event in body["results"]]
        url = body["next"]
    assert seen == [f"test.{number}" for number in range(5)]
