"""ETag / If-None-Match for detail endpoints (ADR 0018)."""

import hashlib
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.http import parse_etags
from rest_framework import status
from rest_framework.response import Response


def weak_etag(data) -> str:
    """A weak validator of a representation: a hash of its canonical JSON (it covers nested
    parts, such as a course's modules, that the row's updated_at would miss)."""
    canonical = json.dumps(data, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
    return f'W/"{hashlib.sha256(canonical.encode()).hexdigest()[:32]}"'


def _matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(tag.removeprefix("W/") == opaque for tag in parse_etags(header))


class ConditionalGetMixin:
    """GET answers carry a weak ETag; a GET whose If-None-Match names it answers 304 with no
    body (weak comparison, RFC 9110 13.1.2)."""

    conditional_get = True

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if (
            request.method in ("GET", "HEAD")
            and response.status_code == status.HTTP_200_OK
            and isinstance(response, Response)
            and response.data is not None
        ):
            etag = weak_etag(response.data)
            response["ETag"] = etag
            if _matches(request.headers.get("If-None-Match", ""), etag):
                response.status_code = status.HTTP_304_NOT_MODIFIED
                response.data = None
        return response
