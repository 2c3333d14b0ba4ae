"""Read replica routing (docs/adr/0015-read-replicas-and-database-outages.md).

With `DATABASE_REPLICA_URL` set, settings add a `replica` database alias. This router sends
there, and only there:
- reads of models in `settings.REPLICA_READ_APPS` (analytics: materialized views and their
  bookkeeping) made while a request is being served (`ReplicaMiddleware`);
- every read made inside `use_replica()` (a context manager and decorator for report views and
  read-only selectors), in a request or not.
Everything else, and every write, goes to the primary (`default`).

Read-your-writes: once a request writes to the primary (any INSERT/UPDATE/DELETE/... statement
or locking read seen on the primary connection, or any ORM write routed), the rest of the
request reads from the primary; the response then pins the client to the primary for
`REPLICA_PIN_SECONDS` (a cookie, and a per-user cache key for API clients without cookies), so
the next requests do not read a replica that has not replayed the write yet.

Fallback: the replica is used only when its connection opens and its replay lag is at most
`REPLICA_MAX_LAG_SECONDS` (measured at most every `REPLICA_CHECK_INTERVAL` seconds per process);
otherwise reads go to the primary, without an error. A replica that is a test mirror
(`TEST["MIRROR"]`) is the test database itself: reads stay on `default` so ordinary tests see
their uncommitted rows.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import logging
import re
import threading
import time

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, Error, connections
from django.http import HttpRequest

logger = logging.getLogger(__name__)

REPLICA = "replica"
PIN_COOKIE = "lyceum_primary_until"
_PIN_CACHE_KEY = "replica-pin:{}"
# Statements that change data or lock rows for a change (Django writes keywords in capitals;
# hand-written SQL may not). A false positive only keeps a request on the primary.
_WRITE_SQL = re.compile(
    r"\b(?:INSERT|UPDATE|DELETE|MERGE|TRUNCATE|COPY)\b|\bFOR\s+(?:KEY\s+)?SHARE\b",
    re.IGNORECASE,
)
# Replay lag in seconds: 0 while the standby has replayed all it received, else the age of the
# last replayed transaction; NULL when the server is not a standby (e.g. promoted).
LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN NULL
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
    ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)
END
"""


@dataclasses.dataclass
class _Scope:
    """What the router knows about the request (or `use_replica()` block) being served."""

    request: HttpRequest | None = None
    route_models: bool = False  # REPLICA_READ_APPS models go to the replica
    forced: int = 0  # depth of use_replica() blocks: every read goes to the replica
    wrote: bool = False  # wrote to the primary: stay there (read-your-writes)
    pinned: bool = False  # the client wrote shortly before (cookie or per-user cache key)
    decision: bool | None = None  # replica usable for this scope (decided on first read)
    deciding: bool = False


_scope: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar(
    "replica_scope", default=None
)


# -- configuration -------------------------------------------------------------------------------


def replica_alias() -> str | None:
    """The replica's alias when one is configured (and is not a test mirror), else None."""
    config = settings.DATABASES.get(REPLICA)
    if not config or (config.get("TEST") or {}).get("MIRROR"):
        return None
    return REPLICA


# -- health (per process) ------------------------------------------------------------------------


@dataclasses.dataclass
class ReplicaStatus:
    usable: bool
    reason: str
    lag_seconds: float | None = None
    checked_at: float = 0.0  # time.monotonic()


_status_lock = threading.Lock()
_status: ReplicaStatus | None = None


def replica_status() -> ReplicaStatus | None:
    """The last health verdict of this process (None before the first check)."""
    return _status


def reset_replica_status() -> None:
    global _status
    with _status_lock:
        _status = None


def _set_status(status: ReplicaStatus) -> ReplicaStatus:
    global _status
    with _status_lock:
        previous, _status = _status, status
    if previous is None or previous.usable != status.usable:
        level = logging.INFO if status.usable else logging.WARNING
        logger.log(
            level, "read replica %s: %s", "in use" if status.usable else "bypassed", status.reason
        )
    return status


def check_replica(alias: str = REPLICA) -> ReplicaStatus:
    """Whether the replica answers and is no further behind than REPLICA_MAX_LAG_SECONDS.

    A verdict is reused for REPLICA_CHECK_INTERVAL seconds, except that:
    - the connection of the calling thread is always made sure to open (Django's health check
      on a persistent connection): a replica that went away is noticed on the next request;
    - "lagging" is measured again on every call (one cheap query on an open connection): the
      measure is an upper bound (after an idle spell, the age of the last replayed transaction
      until the next one is replayed, milliseconds later), so it must not stick."""
    now = time.monotonic()
    status = _status
    fresh = status is not None and now - status.checked_at < settings.REPLICA_CHECK_INTERVAL
    if fresh and not status.usable and status.lag_seconds is None:
        return status  # unreachable: try connecting again after the interval
    connection = connections[alias]
    try:
        connection.close_if_health_check_failed()  # a persistent connection, once per request
        connection.ensure_connection()
        if fresh and status.usable:
            return status
        with connection.cursor() as cursor:
            cursor.execute(LAG_SQL)
            (lag,) = cursor.fetchone()
    except Error as exc:
        with contextlib.suppress(Exception):
            connection.close()
        return _set_status(
            ReplicaStatus(False, f"unreachable: {exc.__class__.__name__}", None, now)
        )
    lag = None if lag is None else float(lag)
    if lag is not None and lag > settings.REPLICA_MAX_LAG_SECONDS:
        return _set_status(ReplicaStatus(False, f"lagging {lag:.1f}s", lag, now))
    return _set_status(ReplicaStatus(True, "ok", lag, now))


# -- pins (read-your-writes across requests) -----------------------------------------------------


def _user_id(request: HttpRequest | None):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return user.pk


def _pinned_by_client(request: HttpRequest | None) -> bool:
    if request is None:
        return False
    now = time.time()
    with contextlib.suppress(ValueError):
        if float(request.COOKIES.get(PIN_COOKIE, "0")) > now:
            return True
    user_id = _user_id(request)
    if user_id is None:
        return False
    from django.core.cache import cache

    until = cache.get(_PIN_CACHE_KEY.format(user_id))
    return until is not None and until > now


def pin_response(request: HttpRequest, response) -> None:
    """Keep this client on the primary for REPLICA_PIN_SECONDS (it has just written)."""
    seconds = settings.REPLICA_PIN_SECONDS
    until = time.time() + seconds
    response.set_cookie(
        PIN_COOKIE,
        f"{until:.3f}",
        max_age=max(1, int(seconds + 0.999)),
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    user_id = _user_id(request)
    if user_id is not None:
        from django.core.cache import cache

        cache.set(_PIN_CACHE_KEY.format(user_id), until, timeout=max(1, int(seconds + 0.999)))


# -- scopes --------------------------------------------------------------------------------------


def _note_write(execute, sql, params, many, context):
    scope = _scope.get()
    if scope is not None and not scope.wrote and _WRITE_SQL.search(str(sql)):
        scope.wrote = True
    return execute(sql, params, many, context)


@contextlib.contextmanager
def request_scope(request: HttpRequest | None = None):
    """Serve a request: REPLICA_READ_APPS reads may go to the replica until the first write.
    Yields the scope (its `wrote` says whether the request wrote to the primary)."""
    scope = _Scope(request=request, route_models=True)
    token = _scope.set(scope)
    try:
        with connections[DEFAULT_DB_ALIAS].execute_wrapper(_note_write):
            yield scope
    finally:
        _scope.reset(token)


@contextlib.contextmanager
def use_replica():
    """Every read inside goes to the replica (when one is configured and healthy), unless the
    enclosing request or block already wrote. For reports and read-only selectors; usable as a
    decorator."""
    scope = _scope.get()
    if scope is not None:
        scope.forced += 1
        try:
            yield
        finally:
            scope.forced -= 1
        return
    scope = _Scope(forced=1)
    token = _scope.set(scope)
    try:
        with connections[DEFAULT_DB_ALIAS].execute_wrapper(_note_write):
            yield
    finally:
        _scope.reset(token)


def mark_written() -> None:
    """Keep the rest of this request on the primary (for writes the router cannot see, such
    as a function that writes called with SELECT)."""
    scope = _scope.get()
    if scope is not None:
        scope.wrote = True


def _use_replica_now(scope: _Scope, alias: str) -> bool:
    if scope.wrote or scope.pinned:
        return False
    if scope.decision is None:
        if scope.deciding:  # reads made while deciding (the user, for the pin) stay primary
            return False
        scope.deciding = True
        try:
            if _pinned_by_client(scope.request):
                scope.pinned = True
                return False
            scope.decision = check_replica(alias).usable
        finally:
            scope.deciding = False
    return scope.decision


def _sync_row_level_security(scope: _Scope) -> None:
    """Row-level security (ADR 0017) gives every connection of the thread, the replica's too,
    the request's context, and follows `request.user` on the primary's statements. A report
    may read the replica before the primary has seen the user change (a DRF token just
    authenticated): bring the context up to date first, so the replica's policies give the same
    rows as the primary's would."""
    from apps.core import rls

    current = rls.context_current()
    if scope.request is None or current.context != rls.REQUEST:
        return
    wanted = rls.request_context(getattr(scope.request, "user", None))
    if wanted != current:
        rls.context_apply(wanted)


class ReplicaRouter:
    """DATABASE_ROUTERS entry: reads as described above; writes and migrations on `default`."""

    def db_for_read(self, model, **hints):
        alias = replica_alias()
        scope = _scope.get()
        if alias is None or scope is None:
            return None
        wanted = scope.forced > 0 or (
            scope.route_models and model._meta.app_label in settings.REPLICA_READ_APPS
        )
        if not wanted or not _use_replica_now(scope, alias):
            return DEFAULT_DB_ALIAS
        _sync_row_level_security(scope)
        return alias

    def db_for_write(self, model, **hints):
        scope = _scope.get()
        if scope is not None:
            scope.wrote = True
        return DEFAULT_DB_ALIAS if replica_alias() else None

    def allow_relation(self, obj1, obj2, **hints):
        databases = {obj1._state.db, obj2._state.db}
        if databases <= {DEFAULT_DB_ALIAS, REPLICA}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if db == REPLICA:
            return False  # a standby is read-only: it gets the schema by replication
        return None


class ReplicaMiddleware:
    """Serves each request in a `request_scope` when a replica is configured, and pins a client
    that wrote to the primary for REPLICA_PIN_SECONDS (read-your-writes across requests).

    Placed after the session and authentication middleware: the pin is per user too, and the
    session saved after the response is not a write of the request's own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if replica_alias() is None:
            return self.get_response(request)
        with request_scope(request) as scope:
            response = self.get_response(request)
        if scope.wrote:
            pin_response(request, response)
        return response
