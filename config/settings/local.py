"""Development settings: `make run` uses these."""

import base64
import hashlib

from .base import *  # noqa: F403
from .base import env

SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-development-key-not-for-production")


def _derived_key(purpose: str) -> str:
    digest = hashlib.sha256(f"lyceum:{purpose}:{SECRET_KEY}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


# Development keys derived from the development secret, so `make run` needs no set-up.
LYCEUM_ENCRYPTION_KEYS = env.list(
    "LYCEUM_ENCRYPTION_KEYS", default=[f"dev1:{_derived_key('encryption')}"]
)
LYCEUM_BLIND_INDEX_KEY = env("LYCEUM_BLIND_INDEX_KEY", default=_derived_key("index"))

DEBUG = env.bool("DJANGO_DEBUG", default=True)
EMAIL_BACKEND = env(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
