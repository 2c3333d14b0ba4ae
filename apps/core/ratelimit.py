"""Rate limits for pages (login, sign-up, password reset) and the OAuth token endpoint, counted
in the Redis cache.

django-ratelimit counts; settings.PAGE_RATE_LIMITS holds the rates ("30/m"), so operators and
tests change them without code. Over the limit the page answers 429 with Retry-After and a
friendly page. django-axes still locks a single account after repeated failures (ADR 0007);
these limits stop one address from trying many accounts or flooding sign-ups and e-mails.
"""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django_ratelimit.decorators import ratelimit

UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def rate_period_seconds(rate: str) -> int:
    """The window of a rate such as "10/m" or "5/15m", in seconds."""
    _, _, period = rate.partition("/")
    digits = period[:-1]
    return int(digits or 1) * UNIT_SECONDS[period[-1]]


def too_many_requests(request: HttpRequest, *, rate: str) -> HttpResponse:
    retry_after = rate_period_seconds(rate)
    response = render(request, "429.html", {"retry_after_minutes": -(-retry_after // 60)})
    response.status_code = 429
    response["Retry-After"] = str(retry_after)
    return response


def too_many_token_requests(request: HttpRequest, *, rate: str) -> HttpResponse:
    """The OAuth token endpoint's 429: a JSON error as its other errors are (RFC 6749 5.2)."""
    retry_after = rate_period_seconds(rate)
    response = JsonResponse(
        {
            "error": "rate_limited",
            "error_description": f"Too many token requests; retry after {retry_after} s.",
        },
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


def page_rate_limit(
    name: str, *, key: str = "ip", methods=("POST",), respond=too_many_requests
) -> Callable:
    """Limit a page view to settings.PAGE_RATE_LIMITS[name] requests per `key` (a
    django-ratelimit key: "ip", "post:email", ...); only `methods` count. Over the limit,
    `respond(request, rate=...)` answers (the friendly 429 page by default)."""

    def rate(group, request):
        return settings.PAGE_RATE_LIMITS[name]

    def decorator(view):
        @wraps(view)
        def guarded(request, *args, **kwargs):
            if getattr(request, "limited", False):
                return respond(request, rate=settings.PAGE_RATE_LIMITS[name])
            return view(request, *args, **kwargs)

        return ratelimit(
            group=f"page:{name}:{key}", key=key, rate=rate, method=list(methods), block=False
        )(guarded)

    return decorator
