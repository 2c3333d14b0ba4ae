"""Benchmark-only helpers (docs/adr/0020-benchmark-harness.md), switched on only by
config/settings/bench.py: a middleware that reports the SQL statements a request ran, a bare
view (the framework ceiling: the whole middleware stack, no query, a payload of the size
asked), and a bare SQL view (the framework ceiling for a scenario's own SQL: the same stack,
the statements one request of the scenario ran, replayed on a raw cursor in one transaction,
a payload of the scenario's size)."""

import json
import os
import random
import re
from pathlib import Path

from django.db import connection, transaction
from django.http import Http404, HttpRequest, HttpResponse

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


CAPTURE_DIR_ENV = "BENCH_CAPTURE_DIR"
_SCENARIO = re.compile(r"[a-z][a-z0-9_]{0,63}")
_captures: dict[str, tuple[int, dict]] = {}


def capture_load(scenario: str) -> dict:
    """The capture bench/run.py wrote for `scenario`: $BENCH_CAPTURE_DIR/<scenario>.json,
    {"bytes": N, "requests": [[sql, ...], ...]} (each request's statements with their parameters
    already bound, row-level security's set_config included). Parsed once per file version."""
    folder = os.environ.get(CAPTURE_DIR_ENV)
    if not folder or not _SCENARIO.fullmatch(scenario):
        raise Http404("No capture.")
    path = Path(folder) / f"{scenario}.json"
    try:
        version = path.stat().st_mtime_ns
    except OSError as exc:
        raise Http404("No capture.") from exc
    cached = _captures.get(scenario)
    if cached is None or cached[0] != version:
        cached = (version, json.loads(path.read_bytes()))
        _captures[scenario] = cached
    return cached[1]


@transaction.non_atomic_requests
def bare_sql(request: HttpRequest) -> HttpResponse:
    """`?scenario=NAME[&bytes=N]`: one of the scenario's captured requests (chosen at random, as
    the load generator chooses its requests), every statement on the raw driver cursor in one
    transaction and its rows fetched, then a payload of the scenario's size. What Django costs
    around exactly the SQL the scenario runs, and nothing of the application's own work."""
    capture = capture_load(request.GET.get("scenario", ""))
    try:
        size = min(max(int(request.GET.get("bytes", capture["bytes"])), 0), MAX_BARE_BYTES)
    except ValueError:
        size = capture["bytes"]
    statements = random.choice(capture["requests"])  # noqa: S311 (load spreading, not secrets)
    with transaction.atomic():
        connection.ensure_connection()
        with connection.connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)  # may be several statements (the audit context's first)
                while True:
                    if cursor.description is not None:
                        cursor.fetchall()
                    if not cursor.nextset():
                        break
    return HttpResponse(b"x" * size, content_type="text/html; charset=utf-8")
