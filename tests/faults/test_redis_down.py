"""Redis down: the cache degrades, pages and the API keep answering (no 500s)."""

import pytest
from django.core.cache import caches

from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

DOWN = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": DOWN},
    }
    settings.REDIS_URL = DOWN
    caches.close_all()
    yield
    caches.close_all()


def test_cache_reads_miss_and_writes_are_dropped(redis_down):
    cache = caches["default"]
    assert cache.get("k", "fallback") == "fallback"
    cache.set("k", "v")
    assert cache.add("k", "v") is False
    assert cache.get_many(["a", "b"]) == {}
    assert cache.incr("counter") == 1


def test_pages_and_api_keep_working(redis_down, client, api_client):
    user = UserFactory()
    assert client.get("/").status_code == 200
    assert client.get("/courses/").status_code == 200
    api_client.force_authenticate(user)
    response = api_client.get("/api/v1/accounts/me/")  # throttling reads the cache
    assert response.status_code == 200
    health = client.get("/healthz")
    assert health.status_code == 503  # reports Redis down, does not crash
    assert health.json()["checks"]["redis"]["ok"] is False
