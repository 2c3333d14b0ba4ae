"""Request context: a request id, and who/where/what for the audit trail (pghistory)."""

import re
import uuid

from pghistory.middleware import HistoryMiddleware

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
