"""scripts/lyceum.py: the failures it must report before starting or changing anything.

These run the script as a subprocess, with LYCEUM_VAR_DIR pointing at a temporary folder so the
project's own .var/ is never touched, and with the service variables blanked (a variable present
but empty counts as unset and hides .env) so neither the caller's environment nor .env leaks in.
"""

import importlib.util
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "lyceum.py"
SERVICE_VARIABLES = (
    "DATABASE_URL",
    "DATABASE_OWNER_URL",
    "REDIS_URL",
    "TEST_REDIS_URL",
    "PORT",
    "PYTEST_ARGS",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def listener():
    """A TCP port on 127.0.0.1 that something (not PostgreSQL, not Redis) listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    path = tmp_path / "var"
    path.mkdir()
    return path


def run_script(var_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {
        **os.environ,
        **dict.fromkeys(SERVICE_VARIABLES, ""),
        "LYCEUM_VAR_DIR": str(var_dir),
    }
    full_env.update(env)
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_services_names_an_unreachable_database_url(var_dir):
    result = run_script(
        var_dir, "services", DATABASE_URL="postgres://lyceum_app:secret@127.0.0.1:1/lyceum"
    )
    assert result.returncode == 1
    assert "error: could not reach PostgreSQL at 127.0.0.1:1 as lyceum_app" in result.stderr
    assert "(database lyceum)" in result.stderr
    assert "secret" not in result.stderr + result.stdout
    assert not (var_dir / "lyceum.env").exists()


def test_services_names_an_unreachable_redis_url(var_dir):
    result = run_script(var_dir, "services", REDIS_URL="redis://127.0.0.1:1/0")
    assert result.returncode == 1
    assert "error: could not reach Redis at 127.0.0.1:1" in result.stderr
    # It failed on what the user configured, before starting or preparing any server.
    assert "PostgreSQL" not in result.stdout
    assert sorted(p.name for p in var_dir.iterdir()) == []


def test_services_reports_every_configured_problem_at_once(var_dir):
    result = run_script(
        var_dir,
        "services",
        DATABASE_URL="postgres://app@127.0.0.1:1/lyceum",
        DATABASE_OWNER_URL="postgres://owner@127.0.0.1:2/lyceum",
        REDIS_URL="redis://127.0.0.1:3/0",
    )
    assert result.returncode == 1
    assert "PostgreSQL at 127.0.0.1:1 as app" in result.stderr
    assert "PostgreSQL at 127.0.0.1:2 as owner (database lyceum, from DATABASE_OWNER_URL)" in (
        result.stderr
    )
    assert "Redis at 127.0.0.1:3" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DATABASE_URL", "mysql://root@127.0.0.1/lyceum", "DATABASE_URL must be a postgres:// URL"),
        ("REDIS_URL", "http://127.0.0.1:6379/0", "REDIS_URL must be a redis:// URL"),
        ("LYCEUM_PG_DEFAULT_PORT", "five", "LYCEUM_PG_DEFAULT_PORT must be a number"),
    ],
)
def test_services_rejects_malformed_settings(var_dir, variable, value, message):
    result = run_script(var_dir, "services", **{variable: value})
    assert result.returncode == 1
    assert f"error: {message}" in result.stderr


def test_services_refuses_a_local_port_taken_by_something_else(var_dir, listener):
    # Nothing on the "default" port, so the script would start its own server, but the port it
    # would use is taken: it must say so instead of initialising or starting anything.
    result = run_script(
        var_dir,
        "services",
        LYCEUM_PG_DEFAULT_PORT=str(free_port()),
        LYCEUM_PG_LOCAL_PORT=str(listener),
    )
    assert result.returncode == 1
    assert f"port {listener} (LYCEUM_PG_LOCAL_PORT) is in use" in result.stderr
    assert not (var_dir / "postgres").exists()


def test_run_refuses_a_web_port_in_use_before_anything_slow(var_dir, listener):
    result = run_script(var_dir, "run", PORT=str(listener))
    assert result.returncode == 1
    assert f"error: port {listener} is already in use; set PORT=" in result.stderr
    assert "==> " not in result.stdout  # no migrate, no children
    assert not (var_dir / "lyceum.env").exists()


def test_stop_services_with_nothing_running(var_dir):
    result = run_script(var_dir, "stop-services")
    assert result.returncode == 0, result.stderr
    assert "no project-local PostgreSQL or Redis is running" in result.stdout


@pytest.fixture(scope="module")
def lyceum():
    spec = importlib.util.spec_from_file_location("lyceum_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def test_a_step_exiting_5_is_a_failure(lyceum):
    # pytest exits 5 when it collected no tests: `make test` must fail then, not pass.
    with pytest.raises(lyceum.Failure) as failure:
        lyceum.step("pytest", [sys.executable, "-c", "raise SystemExit(5)"], dict(os.environ))
    assert failure.value.code == 5
    assert "collected no tests" in str(failure.value)


def test_environment_wins_over_dotenv_and_empty_hides_it(lyceum, monkeypatch):
    monkeypatch.setattr(lyceum, "_DOTENV", {"REDIS_URL": "redis://from-dotenv:6379/0"})
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert lyceum.setting("REDIS_URL") == "redis://from-dotenv:6379/0"
    monkeypatch.setenv("REDIS_URL", "redis://from-env:6379/0")
    assert lyceum.setting("REDIS_URL") == "redis://from-env:6379/0"
    monkeypatch.setenv("REDIS_URL", "")
    assert lyceum.setting("REDIS_URL") == ""


def test_test_redis_url_is_database_15_of_the_same_server(lyceum):
    assert lyceum.with_db("redis://:pw@cache:6380/0", 15) == "redis://:pw@cache:6380/15"
    assert lyceum.with_db("redis://127.0.0.1:6379", 15) == "redis://127.0.0.1:6379/15"


def test_dotenv_lines_are_read_like_the_settings_read_them(lyceum, tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# comment\n"
        "export DATABASE_URL=postgres://a@h/db\n"
        "REDIS_URL='redis://h:1/0'\n"
        'TEST_REDIS_URL="redis://h:1/14"\n'
        "not a line\n"
    )
    assert lyceum._read_dotenv(dotenv) == {
        "DATABASE_URL": "postgres://a@h/db",
        "REDIS_URL": "redis://h:1/0",
        "TEST_REDIS_URL": "redis://h:1/14",
    }


def test_everything_after_test_goes_to_pytest(lyceum):
    # `make test ARGS="-k health -x"` runs `lyceum.py test -k health -x`.
    args = lyceum.parse_args(["test", "-k", "health and not e2e", "-x", "tests/core"])
    assert args.command == "test"
    assert args.pytest_args == ["-k", "health and not e2e", "-x", "tests/core"]
    assert lyceum.parse_args(["test", "--", "--lf"]).pytest_args == ["--lf"]


def test_demo_logins_in_the_banner_match_the_demo_data(lyceum):
    spec = importlib.util.spec_from_file_location(
        "demo_data", SCRIPT.parents[1] / "apps" / "demo" / "data.py"
    )
    data = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(data)
    banner = {(email, password) for email, password, _role in lyceum.DEMO_LOGINS}
    assert banner == {(user["email"], user["password"]) for user in data.DEMO_USERS}


def test_demo_api_credentials_in_the_banner_match_the_demo_data(lyceum):
    source = (SCRIPT.parents[1] / "apps" / "demo" / "integrations.py").read_text()
    for name in ("DEMO_OAUTH_CLIENT_ID", "DEMO_OAUTH_CLIENT_SECRET", "DEMO_STUDENT_TOKEN"):
        value = re.search(rf'^{name} = "([^"]+)"', source, re.MULTILINE).group(1)
        assert value in lyceum.DEMO_API
