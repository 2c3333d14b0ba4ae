"""`manage.py check --deploy` is clean with the production settings (ADR 0016)."""

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

from apps.core import crypto

MANAGE = str(settings.BASE_DIR / "manage.py")


def _production_env(**overrides) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "LYCEUM_", "DATABASE", "REDIS", "RATELIMIT"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "lyceum.example.org",
            "DATABASE_URL": "postgres://lyceum_app:secret@db.internal:5432/lyceum",
            "REDIS_URL": "redis://cache.internal:6379/0",
            "LYCEUM_ENCRYPTION_KEYS": crypto.generate_key("k2026"),
            "LYCEUM_BLIND_INDEX_KEYS": crypto.generate_blind_index_key("b2026"),
        }
    )
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def _manage(*args, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, MANAGE, *args],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_the_deploy_check_with_no_warning():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=_production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_encryption_keys():
    result = _manage("check", env=_production_env(LYCEUM_ENCRYPTION_KEYS=None))
    assert result.returncode != 0
    assert "LYCEUM_ENCRYPTION_KEYS" in result.stderr


def test_production_refuses_to_start_without_blind_index_keys():
    result = _manage("check", env=_production_env(LYCEUM_BLIND_INDEX_KEYS=None))
    assert result.returncode != 0
    assert "LYCEUM_BLIND_INDEX_KEYS" in result.stderr


@pytest.mark.django_db
def test_production_headers(client, settings):
    """What the production settings make the security middleware send (HSTS over HTTPS)."""
    settings.SECURE_HSTS_SECONDS = 365 * 24 * 3600
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    response = client.get("/healthz", secure=True)
    assert response["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains; preload")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
