"""The committed OpenAPI description (docs/openapi.yaml) is the one the code generates."""

from django.core.management import call_command

from tests.conftest import BASE_DIR


def test_committed_schema_matches_the_code(tmp_path):
    generated = tmp_path / "openapi.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(generated))
    committed = BASE_DIR / "docs" / "openapi.yaml"
    assert generated.read_text() == committed.read_text(), (
        "docs/openapi.yaml is out of date: run `make openapi` and commit it"
    )
