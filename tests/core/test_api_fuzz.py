"""schemathesis over every API operation, against a live server, as a staff user whose personal
access token holds every scope: no 5xx, every answer matches the schema (body and status).

Run alone with `pytest -m fuzz tests/core/test_api_fuzz.py`; FUZZ_EXAMPLES (default 8) bounds
the cases per operation and phase. The schemathesis report is printed on failure.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from apps.accounts.services import personal_access_token_create
from apps.core.api.scopes import all_scopes
from apps.core.api.throttling import ClientRateThrottle
from tests.accounts.factories import UserFactory
from tests.content.factories import CourseFactory

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db(transaction=True)]

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance"


@pytest.fixture
def unthrottled(monkeypatch):
    # The fuzzer sends thousands of requests a minute; 429 is documented but wastes the run.
    monkeypatch.setattr(ClientRateThrottle, "rate", "1000000/minute", raising=False)


@pytest.fixture
def fuzz_data():
    """A staff user (every role check passes) and a few courses to find."""
    staff = UserFactory(is_staff=True, is_superuser=True, email="fuzz-staff@example.org")
    CourseFactory.create_batch(2)
    return staff


def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    live_server, fuzz_data, unthrottled, tmp_path
):
    _token, plaintext = personal_access_token_create(
        user=fuzz_data, name="fuzz", scopes=list(all_scopes())
    )
    examples = os.environ.get("FUZZ_EXAMPLES", "8")
    command = [
        str(SCHEMATHESIS),
        "--no-color",
        "run",
        f"{live_server.url}/api/v1/schema/",
        "--checks",
        CHECKS,
        "--header",
        f"Authorization: Bearer {plaintext}",
        "--max-examples",
        examples,
        "--phases",
        "examples,coverage,fuzzing",
        "--seed",
        os.environ.get("FUZZ_SEED", "20261122"),
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--suppress-health-check",
        "all",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=int(os.environ.get("FUZZ_TIMEOUT", "900")),
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]
