"""schemathesis over every API operation, against a live server, as a staff user whose personal
access token holds every scope: no 5xx, every answer matches the schema (body and status).

Run alone with `pytest -m fuzz tests/core/test_api_fuzz.py`. FUZZ_EXAMPLES (default 8) bounds
the cases per operation and phase; FUZZ_PHASES (default "examples,fuzzing", a few minutes) may add
"coverage" (boundary and negative cases for every parameter: slower, run it before a release).
Path ids point at real rows (a course with a module and a lesson, the staff user's enrollment and
lesson plan), so generated requests reach past the 404. The schemathesis report is printed on
failure.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from apps.accounts.services import personal_access_token_create
from apps.core.api.scopes import all_scopes
from apps.core.api.throttling import ClientRateThrottle
from apps.progress.services import enrollment_create
from tests.accounts.factories import UserFactory
from tests.content.factories import (
    CourseFactory,
    LessonFactory,
    LessonPlanFactory,
    ModuleFactory,
    published,
)

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db(transaction=True)]

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance"


@pytest.fixture
def unthrottled(monkeypatch):
    # The fuzzer sends thousands of requests a minute; 429 is documented but wastes the run.
    monkeypatch.setattr(ClientRateThrottle, "rate", "1000000/minute", raising=False)


@pytest.fixture
def fuzz_data(tmp_path):
    """A staff user (every role check passes), rows for the path ids, and the schemathesis
    configuration naming them."""
    staff = UserFactory(is_staff=True, is_superuser=True, email="fuzz-staff@example.org")
    course = published(CourseFactory(instructor=staff))
    lesson = LessonFactory(module=ModuleFactory(course=course))
    enrollment = enrollment_create(user=staff, course=course)
    plan = LessonPlanFactory(owner=staff)
    ids = {
        "course_id": course.pk,
        "module_id": lesson.module_id,
        "lesson_id": lesson.pk,
        "enrollment_id": enrollment.pk,
        "plan_id": plan.pk,
        "user_id": staff.pk,
    }
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        "[parameters]\n" + "".join(f'"path.{name}" = "{value}"\n' for name, value in ids.items())
    )
    return staff, config


def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    live_server, fuzz_data, unthrottled, tmp_path
):
    staff, config = fuzz_data
    _token, plaintext = personal_access_token_create(
        user=staff, name="fuzz", scopes=list(all_scopes())
    )
    examples = os.environ.get("FUZZ_EXAMPLES", "8")
    command = [
        str(SCHEMATHESIS),
        "--no-color",
        "--config-file",
        str(config),
        "run",
        f"{live_server.url}/api/v1/schema/",
        "--checks",
        CHECKS,
        "--header",
        f"Authorization: Bearer {plaintext}",
        "--max-examples",
        examples,
        "--phases",
        os.environ.get("FUZZ_PHASES", "examples,fuzzing"),
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
