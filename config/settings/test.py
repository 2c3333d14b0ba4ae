"""Test settings: real PostgreSQL and Redis, fast hashing, in-memory e-mail."""

from .base import *  # noqa: F403
from .base import env

SECRET_KEY = "insecure-test-key"  # noqa: S105 (tests only)

DEBUG = False
# pytest-django creates the test database, which only the owner role may do: prefer its URL.
DATABASES["default"].update(  # noqa: F405
    {
        k: v
        for k, v in env.db_url("DATABASE_OWNER_URL", default=env("DATABASE_URL")).items()
        if k in ("NAME", "USER", "PASSWORD", "HOST", "PORT")
    }
)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests keep their own Redis database so a running `make run` is not disturbed.
REDIS_URL = env("TEST_REDIS_URL", default="redis://127.0.0.1:6379/15")
CACHES["default"]["LOCATION"] = REDIS_URL  # noqa: F405
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = False
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"anon": "1000/minute", "user": "1000/minute"}  # noqa: F405
# Serve static files from the app folders (no collectstatic before tests).
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
