"""Benchmark-only helpers (docs/adr/0020-benchmark-harness.md), switched on only by
config/settings/bench.py: a middleware that reports the SQL statements a request ran, and a
bare view (the framework ceiling: the whole middleware stack, no query, a payload of the size
asked)."""

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse

QUERY_COUNT_HEADER = "X-Query-Count"
MAX_BARE_BYTES = 50_000_000


class QueryCountMiddleware:
    """Counts the statements run on the default connection while the request is handled and
    sends the count in `X-Query-Count` (for a streamed response: the statements before its
    first byte). Outermost, so it sees the middleware's queries too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = 0

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        response[QUERY_COUNT_HEADER] = str(count)
        return response


@transaction.non_atomic_requests
def bare(request: HttpRequest) -> HttpResponse:
    """`?bytes=N` bytes of HTML-ish text, no database access: what Django alone costs."""
    try:
        size = min(max(int(request.GET.get("bytes", "1000")), 0), MAX_BARE_BYTES)
    except ValueError:
        size = 1000
    return HttpResponse(b"x" * size, content_type="text/html; charset=utf-8")
