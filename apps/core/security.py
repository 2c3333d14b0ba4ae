"""Security endpoints of the shell: where browsers report Content Security Policy violations."""

import json
import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

logger = logging.getLogger("lyceum.csp")

MAX_REPORT_BYTES = 16 * 1024
REPORT_FIELDS = (
    "document-uri",
    "violated-directive",
    "effective-directive",
    "blocked-uri",
    "source-file",
    "line-number",
    "disposition",
)


@csrf_exempt  # browsers post reports without a token; nothing is changed
@require_POST
def csp_report(request: HttpRequest) -> HttpResponse:
    """Log a CSP violation report (report-uri format) at WARNING; always 204."""
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_REPORT_BYTES:
        return HttpResponse(status=413)
    try:
        report = json.loads(request.body or b"{}").get("csp-report", {})
    except (ValueError, AttributeError):
        report = {}
    if isinstance(report, dict) and report:
        logger.warning(
            "CSP violation: %s",
            json.dumps({k: report[k] for k in REPORT_FIELDS if k in report}, sort_keys=True),
        )
    return HttpResponse(status=204)
