"""Request context: a request id, and who/where/what for the audit trail (pghistory)."""

import contextlib
import re
import uuid

from django.db import connections
from pghistory.middleware import HistoryMiddleware

from apps.core import rls

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")


class RequestContextMiddleware(HistoryMiddleware):
    """Gives every request an id (kept from a sane `X-Request-ID` header, else new) and attaches
    user, IP, user agent, method, URL and request id to every audit event it causes."""

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        response = super().__call__(request)
        response["X-Request-ID"] = request.request_id
        return response

    def get_context(self, request) -> dict:
        context = super().get_context(request)
        context.update(
            request_id=request.request_id,
            method=request.method,
            ip=request.META.get("REMOTE_ADDR"),
            user_agent=request.headers.get("User-Agent", "")[:500],
        )
        return context


class RowLevelSecurityMiddleware:
    """Tells the database who the request is for, so row-level security policies apply
    (docs/adr/0017-row-level-security.md): `app.context = 'request'` and the signed-in user's
    id, set on the session before the view's transaction starts.

    Authentication can change inside the view (login, logout, a DRF token), so an execute
    wrapper re-applies the context before the next statement whenever `request.user` no longer
    matches it (an attribute comparison per statement). The context is cleared when the request
    finishes (apps/core/rls_signals.py), after a streamed response is consumed."""

    def __init__(self, get_response):
        self.get_response = get_response

    # Health probes read no protected rows and must answer for themselves when the database is
    # away (/readyz reports it as JSON), so no context is set for them.
    EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})

    def __call__(self, request):
        if request.path in self.EXEMPT_PATHS:
            return self.get_response(request)
        rls.context_apply(rls.request_context(request.user))
        follow = _FollowRequestUser(request)
        with contextlib.ExitStack() as stack:
            for alias in connections:
                stack.enter_context(connections[alias].execute_wrapper(follow))
            return self.get_response(request)


class _FollowRequestUser:
    def __init__(self, request):
        self.request = request

    def __call__(self, execute, sql, params, many, context):
        wanted = rls.request_context(self.request.user)
        if wanted != rls.context_current() and rls.context_current().context == rls.REQUEST:
            rls.context_apply(wanted)
        return execute(sql, params, many, context)
