"""Fixtures shared by the whole suite: real PostgreSQL (pytest-django) and real Redis."""

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import redis
from django.conf import settings
from django.db import connection
from django_otp import DEVICE_ID_SESSION_KEY
from rest_framework.test import APIClient

from apps.accounts.models import TOTPDevice
from tests.accounts.factories import UserFactory

BASE_DIR = Path(settings.BASE_DIR)


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def verified_staff_client(client, staff_user):
    """A browser session of a staff user who has passed the second factor (admin needs it)."""
    device = TOTPDevice.objects.create(user=staff_user, name="test", confirmed=True)
    client.force_login(staff_user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def redis_client():
    """The test Redis database (settings.REDIS_URL points at db 15 in tests), emptied around use."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


APP_ROLE_PASSWORD = os.environ.get("DATABASE_APP_PASSWORD", "lyceum_app")


def database_connect(*, app_role: bool = True, autocommit: bool = False) -> psycopg.Connection:
    """A separate connection to the test database, as the app role by default."""
    params = connection.settings_dict
    return psycopg.connect(
        host=params["HOST"] or "127.0.0.1",
        port=params["PORT"] or 5432,
        dbname=params["NAME"],
        user=settings.DATABASE_APP_ROLE if app_role else params["USER"],
        password=APP_ROLE_PASSWORD if app_role else params["PASSWORD"],
        connect_timeout=5,
        autocommit=autocommit,
    )


def database_url(*, user: str | None = None, password: str | None = None) -> str:
    """A URL for the test database (what subprocesses such as a Celery worker must use)."""
    db = connection.settings_dict
    user = user or db["USER"]
    password = password if password is not None else (db["PASSWORD"] or "")
    auth = f"{user}:{password}" if password else user
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for a child process that must use the same test database and Redis."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(),
        "DATABASE_OWNER_URL": database_url(),
        "TEST_REDIS_URL": settings.REDIS_URL,
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra)
    return env


def app_role_worker(
    name: str, *, concurrency: int = 1, args: tuple[str, ...] = (), **env: str
) -> subprocess.Popen:
    """A real Celery worker connected as the app role (as in production) to the test database,
    output captured, in its own process group (so a SIGKILL reaches its pool children too)."""
    app_url = database_url(user=settings.DATABASE_APP_ROLE, password=APP_ROLE_PASSWORD)
    return subprocess.Popen(
        [
            str(BASE_DIR / ".venv" / "bin" / "celery"),
            *("-A", "config", "worker", "-l", "info", "--concurrency", str(concurrency)),
            *("-n", f"{name}@%h", *args),
        ],
        cwd=BASE_DIR,
        env=subprocess_env(DATABASE_URL=app_url, DATABASE_OWNER_URL=app_url, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


PYTHON = sys.executable
