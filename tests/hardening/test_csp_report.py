"""Browsers' CSP violation reports are logged, never stored or trusted (ADR 0016)."""

import json
import logging

import pytest

pytestmark = pytest.mark.django_db

REPORT = {
    "csp-report": {
        "document-uri": "https://lyceum.example.org/courses/",
        "violated-directive": "script-src-elem",
        "effective-directive": "script-src-elem",
        "blocked-uri": "inline",
        "line-number": 12,
        "original-policy": "default-src 'self'",
    }
}


def test_a_report_is_logged_as_a_warning(client, caplog):
    with caplog.at_level(logging.WARNING, logger="lyceum.csp"):
        response = client.post(
            "/csp-report", json.dumps(REPORT), content_type="application/csp-report"
        )
    assert response.status_code == 204
    (record,) = [r for r in caplog.records if r.name == "lyceum.csp"]
    assert "script-src-elem" in record.getMessage() and "inline" in record.getMessage()
    assert "original-policy" not in record.getMessage()


def test_garbage_and_oversized_reports_are_dropped(client, caplog):
    with caplog.at_level(logging.WARNING, logger="lyceum.csp"):
        assert client.post("/csp-report", "not json", content_type="text/plain").status_code == 204
        big = json.dumps({"csp-report": {"blocked-uri": "x" * 20000}})
        assert client.post("/csp-report", big, content_type="application/json").status_code == 413
    assert not [r for r in caplog.records if r.name == "lyceum.csp"]
    assert client.get("/csp-report").status_code == 405
