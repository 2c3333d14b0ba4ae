"""Settings shared by every environment; values come from the environment (django-environ)."""

from datetime import timedelta
from pathlib import Path

import environ
import pghistory
from csp.constants import NONCE, NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# Real environment first, then a hand-written .env, then what `make run`/`make test` discovered.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
environ.Env.read_env(BASE_DIR / ".var" / "lyceum.env", overwrite=False)

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

# Each domain app keeps its tables in a PostgreSQL schema of its own name (docs/adr/0002).
APP_SCHEMAS = (
    "accounts",
    "rbac",
    "audit",
    "content",
    "progress",
    "billing",
    "assistants",
    "analytics",
    "integrations",
)

# The login role web and worker processes use; the migration owner grants it DML (core 0002).
DATABASE_APP_ROLE = env("DATABASE_APP_ROLE", default="lyceum_app")

DJANGO_APPS = [
    # Before the admin, so its change-form template (the "Events" history link) wins.
    "pghistory.admin",
    "apps.core.admin_apps.LyceumAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
]
THIRD_PARTY_APPS = [
    "rest_framework",
    "rest_framework.authtoken",
    "oauth2_provider",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "pgtrigger",
    "pghistory",
    "django_celery_beat",
    "guardian",
    "csp",
    "axes",
    "django_otp",
    # No otp_totp: TOTP devices are accounts.TOTPDevice, whose secret is encrypted (ADR 0016).
    "django_otp.plugins.otp_static",
]
LOCAL_APPS = [
    "apps.core",
    "apps.accounts",
    "apps.rbac",
    "apps.audit",
    "apps.content",
    "apps.progress",
    "apps.billing",
    "apps.assistants",
    "apps.analytics",
    "apps.integrations",
    "apps.demo",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    # First and (almost) last: request counts and latency for /metrics (docs/operations.md).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "apps.accounts.middleware.PreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Read-your-writes when a read replica is configured (apps/core/db/router.py).
    "apps.core.db.router.ReplicaMiddleware",
    "apps.core.middleware.RequestContextMiddleware",
    # Who the request is for, for row-level security (docs/adr/0017-row-level-security.md).
    "apps.core.middleware.RowLevelSecurityMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Last, as django-axes requires: it turns lockouts raised during login into responses.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.core.context_processors.site",
                "csp.context_processors.nonce",
            ],
        },
    },
]

# DATABASE_URL is the connection of this process: the app role for web and worker, the owner
# role for migrations (the set-up script passes the owner URL to `migrate`).
DATABASES = {"default": env.db_url("DATABASE_URL")}
DATABASES["default"]["ENGINE"] = "apps.core.db.backends.postgresql"
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Fail fast when PostgreSQL is away (docs/adr/0015): a request answers 503 within seconds.
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int(
    "DATABASE_CONNECT_TIMEOUT", default=3
)
if env.int("DATABASE_STATEMENT_TIMEOUT_MS", default=0):  # off by default: migrations, refreshes
    DATABASES["default"]["OPTIONS"]["options"] = (
        f"-c statement_timeout={env.int('DATABASE_STATEMENT_TIMEOUT_MS')}"
    )
# No JIT: the web's queries are short, and row-level security policies make the planner's
# estimates large enough to trigger it (1.3 s of compiling for a 1 ms outline query at 10M
# progress rows: docs/performance.md). DATABASE_JIT=on restores the server's default.
if not env.bool("DATABASE_JIT", default=False):
    DATABASES["default"]["OPTIONS"]["options"] = " ".join(
        filter(None, [DATABASES["default"]["OPTIONS"].get("options", ""), "-c jit=off"])
    )
# The catalog's typo tolerance (apps.content.selectors.TRIGRAM_MIN): pg_trgm's `<%` operator,
# which the title's trigram index serves, compares against this session setting (default 0.6).
DATABASES["default"]["OPTIONS"]["options"] = " ".join(
    filter(
        None,
        [
            DATABASES["default"]["OPTIONS"].get("options", ""),
            "-c pg_trgm.word_similarity_threshold=0.4",
        ],
    )
)
# Optional streaming replica for analytics and report reads (apps/core/db/router.py, ADR 0015):
# same engine and options, own connection, no request transaction (a read-only standby).
if env("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {
        **DATABASES["default"],
        **env.db_url("DATABASE_REPLICA_URL"),
        "ENGINE": DATABASES["default"]["ENGINE"],
        "ATOMIC_REQUESTS": False,
        "OPTIONS": {
            **DATABASES["default"]["OPTIONS"],
            **env.db_url("DATABASE_REPLICA_URL").get("OPTIONS", {}),
        },
    }
DATABASE_ROUTERS = ["apps.core.db.router.ReplicaRouter"]
REPLICA_READ_APPS = env.list("REPLICA_READ_APPS", default=["analytics"])
# The replica is bypassed when it replays more than this far behind the primary; a client that
# wrote reads from the primary for the pin time (keep it >= the lag allowed); the health and
# lag verdict is reused for the check interval.
REPLICA_MAX_LAG_SECONDS = env.float("REPLICA_MAX_LAG_SECONDS", default=5.0)
REPLICA_PIN_SECONDS = env.float("REPLICA_PIN_SECONDS", default=REPLICA_MAX_LAG_SECONDS)
REPLICA_CHECK_INTERVAL = env.float("REPLICA_CHECK_INTERVAL", default=2.0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First, as django-axes requires: refuses locked-out credentials before any password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Answers "rbac:<resource>.<action>" (docs/adr/0006-rbac.md); before guardian on purpose.
    "apps.rbac.backends.RBACBackend",
    "guardian.backends.ObjectPermissionBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:home"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español"), ("fr", "Français"), ("de", "Deutsch")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / ".var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / ".var" / "media")
MEDIA_URL = "media/"
# Every upload request is cut off past this size while it arrives (apps/core/uploads.py).
MAX_UPLOAD_BYTES = env.int("MAX_UPLOAD_BYTES", default=10 * 1024 * 1024)
FILE_UPLOAD_HANDLERS = [
    "apps.core.uploads.MaxUploadSizeHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        # Redis, degrading to "no cache" when Redis is down (apps/core/cache.py).
        "BACKEND": "apps.core.cache.ResilientRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "lyceum",
        "TIMEOUT": 300,
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}

# Celery: Redis is broker and result backend; schedules live in the database (django-celery-beat).
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# A task taken by a worker that dies without acknowledging it (acks_late) goes back to the queue
# after the visibility timeout: keep it above the longest task and any countdown/ETA used.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
}
# Time-partitioned tables (monthly, created ahead by core.tasks.partitions_ensure) and how long
# domain events stay attached before audit.tasks.archive_old_partitions moves them to `archive`.
MONTHLY_PARTITIONED_TABLES = ["audit.events", "progress.activity"]
ACTIVITY_RETENTION_MONTHS = env.int("ACTIVITY_RETENTION_MONTHS", default=13)
# Learning: a heartbeat reports at most this much study time; quiz attempts per run; pass mark.
PROGRESS_MAX_HEARTBEAT_SECONDS = env.int("PROGRESS_MAX_HEARTBEAT_SECONDS", default=600)
QUIZ_MAX_ATTEMPTS = env.int("QUIZ_MAX_ATTEMPTS", default=3)
QUIZ_DEFAULT_PASS_SCORE = env.int("QUIZ_DEFAULT_PASS_SCORE", default=70)
# Billing (docs/adr/0013-billing.md): tax rate per buyer country in basis points (2000 = 20 %),
# the country assumed when none is given, the payment provider ("manual" works offline), Stripe.
BILLING_TAX_RATES_BP = env.dict(
    "BILLING_TAX_RATES_BP",
    cast={"value": int},
    default={"US": 0, "GB": 2000, "DE": 1900, "FR": 2000},
)
BILLING_DEFAULT_COUNTRY = env.str("BILLING_DEFAULT_COUNTRY", default="US")
BILLING_PROVIDER = env.str("BILLING_PROVIDER", default="manual")
# A subscription left unpaid after its period is past due, then cancelled after these days.
BILLING_PAST_DUE_GRACE_DAYS = env.int("BILLING_PAST_DUE_GRACE_DAYS", default=14)
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="https://api.stripe.com")
PARTITION_MONTHS_AHEAD = env.int("PARTITION_MONTHS_AHEAD", default=3)
AUDIT_RETENTION_MONTHS = env.int("AUDIT_RETENTION_MONTHS", default=24)
BACKUP_DIR = env.path("BACKUP_DIR", default=BASE_DIR / ".var" / "backups")
BACKUP_KEEP = env.int("BACKUP_KEEP", default=7)
# A worker whose last heartbeat is older than this is reported down by /healthz.
WORKER_HEARTBEAT_MAX_AGE = env.int("WORKER_HEARTBEAT_MAX_AGE", default=120)
# /readyz reports beat down when no scheduled task was sent for this long (heartbeat is 30 s).
BEAT_MAX_AGE = env.int("BEAT_MAX_AGE", default=180)
# /metrics answers callers from these networks, or anyone with "Authorization: Bearer
# METRICS_TOKEN" when a token is set; everyone else gets 403 (docs/operations.md).
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.1/32", "::1/128"])
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# Maintenance (core.tasks): tables ANALYZEd once this share of their rows (and at least this
# many rows) changed since the last run; how long applied idempotency keys are kept.
MAINTENANCE_ANALYZE_TABLES = [
    "progress.enrollment",
    "progress.lesson_progress",
    "progress.activity",
    "audit.events",
]
ANALYZE_CHANGED_FRACTION = env.float("ANALYZE_CHANGED_FRACTION", default=0.05)
ANALYZE_MIN_CHANGED_ROWS = env.int("ANALYZE_MIN_CHANGED_ROWS", default=1000)
IDEMPOTENCY_KEY_RETENTION_DAYS = env.int("IDEMPOTENCY_KEY_RETENTION_DAYS", default=30)
# Analytics (docs/adr/0012-analytics.md): export files are kept this long; a learner with no
# activity for this many days is "at risk" on the teacher's dashboard.
ANALYTICS_EXPORT_TTL_HOURS = env.int("ANALYTICS_EXPORT_TTL_HOURS", default=24)
ANALYTICS_AT_RISK_DAYS = env.int("ANALYTICS_AT_RISK_DAYS", default=7)

# Integrations (docs/adr/0019-bulk-jobs-and-webhooks.md): webhook attempt timeout, the lease a
# sender holds on a delivery (longer than the timeout: a killed sender's delivery is retried once
# it lapses), attempts before a delivery fails, consecutive failures before an endpoint is
# disabled; bulk enrollment jobs (and their row results) are kept this many days.
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10)
WEBHOOK_LEASE_SECONDS = env.int("WEBHOOK_LEASE_SECONDS", default=60)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_DISABLE_AFTER = env.int("WEBHOOK_DISABLE_AFTER", default=50)
WEBHOOK_MAX_IN_FLIGHT = env.int("WEBHOOK_MAX_IN_FLIGHT", default=4)  # per endpoint
BULK_JOB_TTL_DAYS = env.int("BULK_JOB_TTL_DAYS", default=30)

# Assistants (docs/adr/0010-assistants.md). "offline" answers from memories and content with no
# network; "openai" calls an OpenAI-compatible chat-completions API (a profile may choose).
ASSISTANT_PROVIDER = env("ASSISTANT_PROVIDER", default="offline")
ASSISTANT_OPENAI_BASE_URL = env("ASSISTANT_OPENAI_BASE_URL", default="https://api.openai.com/v1")
ASSISTANT_OPENAI_API_KEY = env("ASSISTANT_OPENAI_API_KEY", default="")
ASSISTANT_OPENAI_MODEL = env("ASSISTANT_OPENAI_MODEL", default="")  # blank: the profile's model
ASSISTANT_HTTP_TIMEOUT = env.float("ASSISTANT_HTTP_TIMEOUT", default=30.0)  # seconds per attempt
ASSISTANT_HTTP_MAX_ATTEMPTS = env.int("ASSISTANT_HTTP_MAX_ATTEMPTS", default=3)  # 429/5xx retried
ASSISTANT_HTTP_BACKOFF = env.float("ASSISTANT_HTTP_BACKOFF", default=0.5)  # doubles each retry
ASSISTANT_RECALL_LIMIT = env.int("ASSISTANT_RECALL_LIMIT", default=5)
ASSISTANT_RECALL_HALF_LIFE_DAYS = env.float("ASSISTANT_RECALL_HALF_LIFE_DAYS", default=30.0)
ASSISTANT_INTERACTION_RETENTION_DAYS = env.int("ASSISTANT_INTERACTION_RETENTION_DAYS", default=90)
# Forgotten memories stay (hidden, never recalled) this long, then the expiry task deletes them.
ASSISTANT_FORGOTTEN_RETENTION_DAYS = env.int("ASSISTANT_FORGOTTEN_RETENTION_DAYS", default=30)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Bearer tokens first: an unauthenticated API call then answers 401 with
        # WWW-Authenticate. Personal access tokens, then OAuth 2 access tokens (ADR 0018); DRF's
        # own TokenAuthentication is gone (unscoped, never expiring, stored in clear).
        "apps.accounts.authentication.PersonalAccessTokenAuthentication",
        "apps.core.api.authentication.OAuth2Authentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Every endpoint: a token needs the operation's scope (views naming their own permission
    # classes list HasResourceScope too; a test walks them all).
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "apps.core.api.permissions.HasResourceScope",
    ],
    # DRF's browsable API, its page admitting style attributes only (CSP, ADR 0016).
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "apps.core.api.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "apps.core.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "apps.core.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        # The "user" rate, counted per client: OAuth application, personal token or user.
        "apps.core.api.throttling.ClientRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="100/minute"),
        "user": env("API_THROTTLE_USER", default="1000/minute"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# OAuth 2 (django-oauth-toolkit, ADR 0018): /oauth/token/ (client credentials, authorization
# code with PKCE S256), /oauth/revoke_token/; applications are managed in the admin. Scopes
# `<resource>:<read|write>` come from the API views (apps.core.api.scopes).
OAUTH2_PROVIDER = {
    "SCOPES_BACKEND_CLASS": "apps.core.api.scopes.ApiScopes",
    "ACCESS_TOKEN_EXPIRE_SECONDS": env.int("OAUTH_ACCESS_TOKEN_SECONDS", default=3600),
    "REFRESH_TOKEN_EXPIRE_SECONDS": env.int("OAUTH_REFRESH_TOKEN_SECONDS", default=30 * 24 * 3600),
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ROTATE_REFRESH_TOKEN": True,
    "PKCE_REQUIRED": True,
    # RFC 9700 behaviour now (the 4.0 defaults): S256 only, no password or implicit grant,
    # tokens only in the header, `iss` in authorization responses, tokens hashed at rest.
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": env.list("OAUTH_REDIRECT_SCHEMES", default=["http", "https"]),
}
# Personal access tokens: lifetime when none is asked for, and the longest allowed (days).
PERSONAL_ACCESS_TOKEN_DEFAULT_DAYS = env.int("PERSONAL_ACCESS_TOKEN_DEFAULT_DAYS", default=90)
PERSONAL_ACCESS_TOKEN_MAX_DAYS = env.int("PERSONAL_ACCESS_TOKEN_MAX_DAYS", default=366)

SPECTACULAR_SETTINGS = {
    "TITLE": "Lyceum API",
    "DESCRIPTION": "REST API of the Lyceum learning management system.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Several models have a "status"; name each choice set after its model.
    "ENUM_NAME_OVERRIDES": {
        "LessonPlanStatusEnum": "apps.content.models.PlanStatus",
        "CourseStatusEnum": "apps.content.models.CourseStatus",
        "EnrollmentStatusEnum": "apps.progress.models.EnrollmentStatus",
        "OrderStatusEnum": "apps.billing.models.OrderStatus",
        "PaymentStatusEnum": "apps.billing.models.PaymentStatus",
        "SubscriptionStatusEnum": "apps.billing.models.SubscriptionStatus",
        "ExportStatusEnum": "apps.analytics.models.ExportStatus",
    },
}

# Every tracked model records inserts, real updates (not a bare touch of updated_at) and deletes.
PGHISTORY_DEFAULT_TRACKERS = (
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(condition=pghistory.AnyChange(exclude_auto=True)),
    pghistory.DeleteEvent(),
)
PGHISTORY_ADMIN_MODEL = "audit.AuditEvent"
PGHISTORY_ADMIN_CLASS = "apps.audit.admin.AuditEventAdmin"
PGHISTORY_MIDDLEWARE_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

# Lockout (django-axes, docs/adr/0007-accounts-security.md): N failures for one account lock it
# for a cool-off period; admins unlock from the user list.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "apps.accounts.views.locked_out"
AXES_VERBOSE = False
SILENCED_SYSTEM_CHECKS = [
    # axes.W006 asks to lock by IP address too. Pupils of one school share a NAT address, so a
    # few typos in a classroom would lock everyone out; we lock per account only (ADR 0007).
    "axes.W006",
]

# Encryption of sensitive fields (docs/adr/0016-sensitive-fields-and-hardening.md): a list of
# "<key id>:<Fernet key>", the first current; separate keys for blind indexes (keyed hashes),
# "<key id>:<secret>", the first current (a lone LYCEUM_BLIND_INDEX_KEY counts as key "b0").
LYCEUM_ENCRYPTION_KEYS = env.list("LYCEUM_ENCRYPTION_KEYS", default=[])
LYCEUM_BLIND_INDEX_KEYS = env.list("LYCEUM_BLIND_INDEX_KEYS", default=[])
LYCEUM_BLIND_INDEX_KEY = env("LYCEUM_BLIND_INDEX_KEY", default="")

# Page rate limits (django-ratelimit, counted in the Redis cache; apps/core/ratelimit.py), per
# client address unless named otherwise; over the limit the page answers 429. Redis down: open
# (django-axes still locks single accounts). Behind a proxy, RATELIMIT_IP_META_KEY names the
# header holding the client address (production.py).
PAGE_RATE_LIMITS = {
    "login": env("RATELIMIT_LOGIN", default="30/m"),
    "signup": env("RATELIMIT_SIGNUP", default="20/h"),
    "password_reset": env("RATELIMIT_PASSWORD_RESET", default="10/h"),
    "password_reset_email": env("RATELIMIT_PASSWORD_RESET_EMAIL", default="3/h"),
    # OAuth token requests: each checks a client secret with the password hasher (CPU).
    "oauth_token": env("RATELIMIT_OAUTH_TOKEN", default="120/m"),
}
RATELIMIT_USE_CACHE = "default"
RATELIMIT_FAIL_OPEN = True

# Two-factor: TOTP devices and single-use backup codes (django-otp); staff need it for admin.
OTP_TOTP_ISSUER = "Lyceum"
BACKUP_CODE_COUNT = 10

EMAIL_VERIFICATION_MAX_AGE = env.int("EMAIL_VERIFICATION_MAX_AGE", default=3 * 24 * 3600)
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=24 * 3600)

GUARDIAN_RAISE_403 = True
ANONYMOUS_USER_NAME = None

SESSION_COOKIE_HTTPONLY = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content Security Policy (django-csp 4; ADR 0016): scripts and styles from our own origin, inline
# ones only with the per-request nonce ({{ CSP_NONCE }}); no style attributes. The hash admits
# the one inline style of the stand-alone 500/503 pages. Violations are reported to /csp-report.
# No form-action: an OAuth consent form's redirect to a client's address must not be blocked.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE, "'sha256-Jp7Wne1S6etzQHcd/3ZZuv0VsDcdatGpxhcEIp/IibE='"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "report-uri": ["/csp-report"],
    },
}
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="Lyceum <noreply@lyceum.test>")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
}
