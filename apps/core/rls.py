"""Row-level security context of a database session (docs/adr/0017-row-level-security.md).

The policies on user-owned tables read two session settings, through the SQL functions
`rls.context()`, `rls.user_id()`, `rls.is_system()` (rbac migration 0003):

- `app.context`: `request` (a web request; the user id says who) or `system` (a Celery task, a
  management command, or code that explicitly runs as the system). Empty: no rows at all.
- `app.current_user_id`: the signed-in user's id in a request, empty for anonymous requests.

Everything else a policy needs (is the user a superuser, which permissions their grants give in
which scope, which courses they teach) is read from the rbac, accounts and content tables by
STABLE functions, once per statement, so it is never stale and costs no query per request.

The settings are session-level (`set_config(..., false)`): the request transaction
(ATOMIC_REQUESTS) starts inside the view, after the middleware, and persistent connections
(CONN_MAX_AGE) carry a session from one request to the next. So each connection wrapper keeps
the context it should have (`connection.rls_context`); it is applied when set, re-applied when
the connection is re-opened (connection_created), and cleared when a request or task ends and
whenever a request starts with something left over. A session whose context cannot be cleared
is closed rather than reused.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.transaction import TransactionManagementError

REQUEST = "request"
SYSTEM = "system"

_SET_SQL = (
    "SELECT pg_catalog.set_config('app.context', %s, false),"
    " pg_catalog.set_config('app.current_user_id', %s, false)"
)


@dataclass(frozen=True)
class RlsContext:
    """What the policies of one database session are told: who asks, and in which capacity."""

    context: str = ""
    user_id: str = ""

    def __bool__(self) -> bool:
        return bool(self.context)


NO_CONTEXT = RlsContext()
SYSTEM_CONTEXT = RlsContext(context=SYSTEM)


def request_context(user) -> RlsContext:
    """The context of a web request made by `user` (anonymous: no user id)."""
    user_id = str(user.pk) if getattr(user, "is_authenticated", False) and user.pk else ""
    return RlsContext(context=REQUEST, user_id=user_id)


def context_current() -> RlsContext:
    """The context the database sessions of this thread have (or get once opened)."""
    return getattr(connections[DEFAULT_DB_ALIAS], "rls_context", NO_CONTEXT)


def _send(connection: BaseDatabaseWrapper, context: RlsContext) -> None:
    # The raw driver connection: like Django's own session set-up (time zone), this is not an
    # application query, so it stays out of query logs and query-count assertions.
    with connection.wrap_database_errors:
        connection.connection.execute(_SET_SQL, [context.context, context.user_id])


def context_apply(context: RlsContext) -> None:
    """Give every database connection of this thread (the primary and a read replica) this
    context: now where it is open, else when it opens."""
    for alias in connections:
        connection = connections[alias]
        connection.rls_context = context
        if connection.connection is not None:
            try:
                _send(connection, context)
            except DatabaseError:
                if alias == DEFAULT_DB_ALIAS:
                    raise
                # A read replica that went away must not fail the request: drop the session;
                # it gets the context when it reconnects, or the router reads the primary
                # (docs/adr/0015-read-replicas-and-database-outages.md).
                connection.close()


def context_clear() -> None:
    """Forget the context. A session that cannot be cleared is closed, never reused."""
    for alias in connections:
        connection = connections[alias]
        had = getattr(connection, "rls_context", NO_CONTEXT)
        connection.rls_context = NO_CONTEXT
        if connection.connection is None or not had:
            continue
        try:
            _send(connection, NO_CONTEXT)
        except DatabaseError:
            connection.close()


@contextlib.contextmanager
def system_context() -> Iterator[None]:
    """Run the block as the system: the policies let it see and change every row.

    For work no user asks for (tasks, commands) and for the few steps a user's action causes
    on other users' rows after the application has checked the permission. Nests: the previous
    context comes back at the end."""
    previous = context_current()
    context_apply(SYSTEM_CONTEXT)
    try:
        yield
    finally:
        _restore(previous)


def _restore(previous: RlsContext) -> None:
    try:
        if previous:
            context_apply(previous)
        else:
            context_clear()
    except (DatabaseError, TransactionManagementError):
        # A failed transaction: its rollback returns the session to the context it had before
        # the transaction (set_config is transactional); only the remembered context moves.
        for alias in connections:
            connection = connections[alias]
            if not connection.in_atomic_block:
                connection.close()
            connection.rls_context = previous


def on_connection_created(sender, connection, **_kwargs) -> None:
    """A re-opened connection (CONN_MAX_AGE, health checks, a worker) gets its context back."""
    context = getattr(connection, "rls_context", NO_CONTEXT)
    if context:
        _send(connection, context)


def on_request_boundary(sender=None, **_kwargs) -> None:
    """Nothing of one request survives into the next on the same connection."""
    context_clear()
