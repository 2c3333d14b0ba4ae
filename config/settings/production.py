"""Production settings: everything secret or host-specific comes from the environment."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
# Old secret keys still accepted for sessions and signed links while a new one rolls out.
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips it from clients):
# `manage.py check --deploy --fail-level WARNING` passes with these (tests/hardening).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# Load balancers probe over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# One year, subdomains, preload: what the browsers' HSTS preload list requires.
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
# Same-origin form posts need no entry; the default trusts https on every allowed host.
CSRF_TRUSTED_ORIGINS = env.list(
    "DJANGO_CSRF_TRUSTED_ORIGINS",
    default=[f"https://{host.lstrip('.')}" for host in ALLOWED_HOSTS if "*" not in host],  # noqa: F405
)
# The header the proxy puts the client address in (e.g. HTTP_X_REAL_IP); unset: REMOTE_ADDR.
RATELIMIT_IP_META_KEY = env("RATELIMIT_IP_META_KEY", default=None)
# RFC 9700 (OAuth 2.0 Security BCP) in production: a replayed refresh token revokes its whole
# family, and clients' redirect addresses must be https (development keeps http for loopback).
OAUTH2_PROVIDER = {
    **OAUTH2_PROVIDER,  # noqa: F405
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
}
# Production refuses to start without its own keys (never the development ones).
LYCEUM_ENCRYPTION_KEYS = env.list("LYCEUM_ENCRYPTION_KEYS")
LYCEUM_BLIND_INDEX_KEYS = env.list("LYCEUM_BLIND_INDEX_KEYS", default=[])
LYCEUM_BLIND_INDEX_KEY = env("LYCEUM_BLIND_INDEX_KEY", default="")
if not (LYCEUM_BLIND_INDEX_KEYS or LYCEUM_BLIND_INDEX_KEY):
    raise ImproperlyConfigured("Set LYCEUM_BLIND_INDEX_KEYS (or the older LYCEUM_BLIND_INDEX_KEY).")
