"""Benchmark settings (bench/run.py, docs/adr/0020-benchmark-harness.md): production-like (no
debug, templates cached, static files from the app folders), plus the query-count header and
the bare reference view. Never used to serve users."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-benchmark-key-never-served")
BENCHMARK = True
MIDDLEWARE = ["apps.core.benchmark.QueryCountMiddleware", *MIDDLEWARE]  # noqa: F405
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The load generator is one client hammering a few accounts: no throttling, no lockouts.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = dict.fromkeys(  # noqa: F405
    REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}),  # noqa: F405
    "1000000/minute",
)
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
