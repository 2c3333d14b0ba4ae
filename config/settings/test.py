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
if "replica" in DATABASES:  # noqa: F405
    # Ordinary tests run on one database: the replica mirrors it (no test database is created
    # for it) and the router keeps reads on `default`, where the test's rows are. The router is
    # tested against a real standby in tests/ops/test_replica.py.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Two fixed test keys (current first); tests of rotation reorder them with override_settings.
LYCEUM_ENCRYPTION_KEYS = [
    "test2:KYBbKKIu8Z9ijIpxHnxvHd0_a6JT-WIrEtW-PTNkOM0=",
    "test1:cUALlm9JqaayINs5-XgOK9gvgalSwU0V52vog7BO9Kc=",
]
LYCEUM_BLIND_INDEX_KEYS = ["bi1:QqvFNxjHxvIdreeju_87fKFgdeERxq6whaQDR0lf4mU="]
# Many tests log in from one address within a minute; tests of the limits lower them.
PAGE_RATE_LIMITS = dict.fromkeys(PAGE_RATE_LIMITS, "100000/m")  # noqa: F405
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
