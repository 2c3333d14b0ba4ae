"""Find or start what Lyceum needs, then run it or test it.

Run it with the project's virtual environment (the Makefile does):

    .venv/bin/python scripts/lyceum.py services       # find or start PostgreSQL and Redis
    .venv/bin/python scripts/lyceum.py run            # services, migrate, seed, web + worker + beat
    .venv/bin/python scripts/lyceum.py test [ARGS]    # services, lint, checks, pytest
    .venv/bin/python scripts/lyceum.py migrate        # services, then migrate as the owner role
    .venv/bin/python scripts/lyceum.py lint           # ruff check, ruff format, lint-imports
    .venv/bin/python scripts/lyceum.py stop-services  # stop the project-local servers under .var/

PostgreSQL and Redis are taken from DATABASE_URL / REDIS_URL when set (in the environment or in
.env); otherwise a server on the default local port is used, or a project-local one is started
under .var/ from the installed binaries (the Debian packages are installed when missing and we
are root). What was found is written to .var/lyceum.env, which the Django settings read.

Only the standard library is needed at import time; psycopg and redis (both in the virtual
environment) are imported when a server is contacted.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import errno
import getpass
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
# Where the project-local servers and lyceum.env live. Django always reads ROOT/.var/lyceum.env;
# LYCEUM_VAR_DIR exists so the script's own tests can run it without touching the real .var/.
VAR = Path(os.environ.get("LYCEUM_VAR_DIR") or ROOT / ".var").resolve()
ENV_FILE = VAR / "lyceum.env"
PG_DATA = VAR / "postgres"
PG_LOG = VAR / "postgres.log"
PG_SOCKET_DIR = VAR / "pgsocket"
REDIS_DIR = VAR / "redis"
REDIS_PID = VAR / "redis.pid"
REDIS_LOG = VAR / "redis.log"

# The binaries of the environment that runs this script (the project's .venv).
BIN = Path(sys.executable).parent
MANAGE = ROOT / "manage.py"

OWNER_ROLE = "lyceum_owner"
DEFAULT_APP_ROLE = "lyceum_app"
TEST_REDIS_DB = 15
SHUTDOWN_GRACE = 10.0
HEALTH_TIMEOUT = 120.0
BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# Kept in step with apps/demo/data.py (tests/scripts checks that they agree).
DEMO_LOGINS = (
    ("admin@lyceum.test", "lyceum-admin", "administrator (staff: needs 2FA)"),
    ("teacher@lyceum.test", "lyceum-teacher", "instructor"),
    ("assistant@lyceum.test", "lyceum-assistant", "teaching assistant"),
    ("billing@lyceum.test", "lyceum-billing", "billing manager (staff: needs 2FA)"),
    ("student@lyceum.test", "lyceum-student", "student"),
    ("subscriber@lyceum.test", "lyceum-subscriber", "student with a monthly subscription"),
)
DEMO_TWO_FACTOR = (
    "staff two-factor: add the key JR4WGZLVNUWWIZLNN4WWCZDNNFXC2MTG to a TOTP app, "
    "or use a backup code demo0001 ... demo0010"
)
# Kept in step with apps/demo/integrations.py (tests/scripts checks that they agree).
DEMO_API = (
    "API quick start (docs/api.md): OAuth client lyceum-demo-integration / lyceum-demo-secret, "
    "student token lyc_pat_demoStudentToken0000000000000000000000"
)
# A fresh worker reports its first heartbeat a few seconds after the web server answers.
HEALTH_GREEN_WAIT = 45.0


class Failure(Exception):
    """A problem the user has to act on: printed as `error: ...`, exit status 1."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def say(message: str = "") -> None:
    print(message, flush=True)


def note(message: str) -> None:
    print(f"note: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Configuration: the real environment first, then the hand-written .env (as the settings do).


def _read_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        key, sep, value = line.partition("=")
        if not sep:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


_DOTENV = _read_dotenv(ROOT / ".env")


def setting(name: str, default: str = "") -> str:
    """A variable from the environment, else from .env, else the default.

    A variable present but empty in the environment counts as unset and hides .env's value.
    """
    if name in os.environ:
        return os.environ[name].strip() or default
    return _DOTENV.get(name, "").strip() or default


def int_setting(name: str, default: int) -> int:
    raw = setting(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise Failure(f"{name} must be a number, not {raw!r}") from None
    if not 0 < value < 65536 and name.endswith("PORT"):
        raise Failure(f"{name} must be a TCP port (1-65535), not {value}")
    return value


# --------------------------------------------------------------------------------------------
# Small helpers: ports, processes, packages.


def port_answers(port: int, host: str = "127.0.0.1", timeout: float = 1.0) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when a server could listen on host:port (what runserver will try)."""
    if port_answers(port, host, timeout=0.5):
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As runserver does: a port left in TIME_WAIT by a previous run is free to reuse.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead for our purposes.
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[-1].split()[0] == "Z":
            return False
    return True


def process_cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process_alive(pid):
            return True
        time.sleep(0.1)
    return not process_alive(pid)


def tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join("    " + line for line in text.splitlines()[-lines:])


def is_root() -> bool:
    return os.geteuid() == 0


def apt_install(packages: list[str], why: str) -> None:
    """Install Debian packages when we are root; otherwise tell the user the command."""
    command = "apt-get update && apt-get install -y " + " ".join(packages)
    if not shutil.which("apt-get"):
        raise Failure(f"{why}, and this machine has no apt-get: install {' '.join(packages)}")
    if not is_root():
        raise Failure(f"{why}. Install it first, as root:\n    sudo sh -c '{command}'")
    say(f"{why}: installing {' '.join(packages)} (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update"], ["apt-get", "install", "-y", *packages]):
        result = subprocess.run(argv, env=env, check=False)
        if result.returncode != 0:
            raise Failure(f"`{' '.join(argv)}` failed (exit {result.returncode})")


def mask(url: str) -> str:
    """The URL with its password hidden, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    userinfo = netloc[0].split(":", 1)[0] + ":***"
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{netloc[1]}"))


def one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__


def import_or_fail(module: str):
    try:
        return __import__(module)
    except ImportError:
        raise Failure(
            f"the Python package {module!r} is missing: run this script with the project's "
            f"virtual environment (.venv/bin/python {Path(__file__).relative_to(ROOT)}), "
            "which `make` creates"
        ) from None


# --------------------------------------------------------------------------------------------
# PostgreSQL


@dataclasses.dataclass(frozen=True)
class PgTarget:
    """Where a postgres:// URL points, in the words the error messages use."""

    url: str
    host: str
    port: int
    user: str
    dbname: str
    params: dict[str, str]

    @classmethod
    def parse(cls, url: str, variable: str) -> PgTarget:
        parts = urlsplit(url)
        if parts.scheme not in ("postgres", "postgresql", "pgsql"):
            raise Failure(f"{variable} must be a postgres:// URL, not {mask(url)!r}")
        params: dict[str, str] = {}
        for pair in filter(None, parts.query.split("&")):
            key, _, value = pair.partition("=")
            params[unquote(key)] = unquote(value)
        if parts.password is not None:
            params["password"] = unquote(parts.password)
        host = unquote(parts.hostname or "") or params.pop("host", "")
        return cls(
            url=url,
            host=host,
            port=parts.port or 5432,
            user=unquote(parts.username or "") or getpass.getuser(),
            dbname=unquote(parts.path.lstrip("/")) or unquote(parts.username or "") or "postgres",
            params=params,
        )

    def describe(self, variable: str = "") -> str:
        place = f"{self.host}:{self.port}" if self.host else f"the local socket, port {self.port}"
        source = f", from {variable}" if variable else ""
        return f"{place} as {self.user} (database {self.dbname}{source})"

    def connect(self, timeout: int = 5):
        psycopg = import_or_fail("psycopg")
        kwargs = {**self.params, "user": self.user, "dbname": self.dbname, "port": self.port}
        if self.host:
            kwargs["host"] = self.host
        kwargs["connect_timeout"] = timeout
        return psycopg.connect(autocommit=True, **kwargs)


def pg_url(user: str, password: str, port: int, dbname: str, host: str = "127.0.0.1") -> str:
    return f"postgres://{quote(user)}:{quote(password)}@{host}:{port}/{quote(dbname)}"


def check_pg(target: PgTarget, variable: str) -> str:
    """Connect to target; return the server version, or raise a Failure naming the target."""
    try:
        with target.connect() as conn:
            return str(conn.execute("SHOW server_version").fetchone()[0])
    except Exception as exc:
        source = "" if variable == "DATABASE_URL" else variable
        raise Failure(
            f"could not reach PostgreSQL at {target.describe(source)}: {one_line(exc)}"
        ) from None


def pg_bin_dir() -> Path | None:
    """The directory holding initdb and pg_ctl: PATH first, then Debian's versioned dirs."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: (
            p.parent.name != "15",
            -int(p.parent.name) if p.parent.name.isdigit() else 0,
        ),
    )
    for candidate in candidates:
        if (candidate / "pg_ctl").exists() and (candidate / "initdb").exists():
            return candidate
    return None


def as_postgres(argv: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the `postgres` OS user."""
    if not is_root():
        return argv
    runuser = shutil.which("runuser")
    if runuser is None:
        raise Failure("running as root, but `runuser` is missing to run PostgreSQL as `postgres`")
    return [runuser, "-u", "postgres", "--", *argv]


def local_pg_running() -> tuple[int, int] | None:
    """(pid, port) of the project-local PostgreSQL when it runs, else None."""
    try:
        lines = (PG_DATA / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
    except (OSError, ValueError, IndexError):
        return None
    if process_alive(pid) and "postgres" in process_cmdline(pid):
        return pid, port
    return None


def _chown_to_postgres(*paths: Path) -> None:
    if not is_root():
        return
    import pwd

    try:
        entry = pwd.getpwnam("postgres")
    except KeyError:
        raise Failure(
            "running as root, and there is no `postgres` OS user to run the project-local "
            "PostgreSQL (initdb refuses root): create one, or run as an ordinary user"
        ) from None
    for path in paths:
        os.chown(path, entry.pw_uid, entry.pw_gid)


def start_local_pg(port: int) -> int:
    """Start (initialising if needed) the server in .var/postgres; return its port."""
    running = local_pg_running()
    if running:
        pid, running_port = running
        if running_port != port:
            note(
                f"the project-local PostgreSQL already runs on port {running_port}, not "
                f"LYCEUM_PG_LOCAL_PORT={port}; `make stop` first to move it"
            )
        say(f"PostgreSQL: using the project-local server (pid {pid}, port {running_port})")
        return running_port
    if port_answers(port):
        raise Failure(
            f"port {port} (LYCEUM_PG_LOCAL_PORT) is in use by something other than the "
            f"project-local PostgreSQL in {PG_DATA}: stop it, or set LYCEUM_PG_LOCAL_PORT to a "
            "free port (or DATABASE_URL to a server you have)"
        )
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        apt_install(["postgresql"], "no PostgreSQL server binaries (initdb, pg_ctl) are installed")
        bin_dir = pg_bin_dir()
        if bin_dir is None:
            raise Failure("the postgresql package is installed but initdb/pg_ctl were not found")

    VAR.mkdir(parents=True, exist_ok=True)
    if not (PG_DATA / "PG_VERSION").exists():
        PG_DATA.mkdir(parents=True, exist_ok=True)
        if any(PG_DATA.iterdir()):
            raise Failure(f"{PG_DATA} is not empty but holds no PostgreSQL cluster: remove it")
        _chown_to_postgres(PG_DATA)
        locale = "C.UTF-8" if _has_c_utf8() else None
        argv = [str(bin_dir / "initdb"), "-D", str(PG_DATA), "-U", "postgres"]
        argv += ["--auth=trust", "-E", "UTF8"]
        argv += [f"--locale={locale}"] if locale else ["--no-locale"]
        say(f"PostgreSQL: initialising a project-local cluster in {_rel(PG_DATA)}")
        result = subprocess.run(
            as_postgres(argv), capture_output=True, text=True, check=False, cwd="/"
        )
        if result.returncode != 0:
            raise Failure(
                f"initdb failed (exit {result.returncode}):\n{result.stdout}{result.stderr}"
                + _access_hint()
            )

    PG_SOCKET_DIR.mkdir(parents=True, exist_ok=True)
    PG_LOG.touch(exist_ok=True)
    _chown_to_postgres(PG_SOCKET_DIR, PG_LOG)
    # A Unix socket path must fit in 107 bytes; with a deep checkout, listen on TCP only.
    sockets = str(PG_SOCKET_DIR) if len(str(PG_SOCKET_DIR)) + 20 < 107 else ""
    options = (
        f"-p {port} -c listen_addresses=127.0.0.1 "
        f"-c unix_socket_directories={shlex.quote(sockets) if sockets else shlex.quote('')}"
    )
    argv = [str(bin_dir / "pg_ctl"), "-D", str(PG_DATA), "-l", str(PG_LOG)]
    argv += ["-o", options, "-w", "-t", "60", "start"]
    say(f"PostgreSQL: starting the project-local server on 127.0.0.1:{port}")
    result = subprocess.run(as_postgres(argv), capture_output=True, text=True, check=False, cwd="/")
    if result.returncode != 0:
        raise Failure(
            f"could not start the project-local PostgreSQL (pg_ctl exit {result.returncode}):\n"
            f"{result.stdout}{result.stderr}{tail(PG_LOG)}{_access_hint()}"
        )
    return port


def _has_c_utf8() -> bool:
    try:
        out = subprocess.run(["locale", "-a"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return False
    return any(name.lower() in ("c.utf8", "c.utf-8") for name in out.split())


def _access_hint() -> str:
    if not is_root():
        return ""
    return (
        f"\n(as root, PostgreSQL runs as the `postgres` user, which must be able to reach "
        f"{VAR}: every parent directory needs o+x)"
    )


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def admin_connection(port: int, local: bool):
    """A superuser connection on 127.0.0.1:port (as the OS user, then `postgres`)."""
    users = ["postgres"] if local else list(dict.fromkeys([getpass.getuser(), "postgres"]))
    reasons = []
    for user in users:
        target = PgTarget(
            url="", host="127.0.0.1", port=port, user=user, dbname="postgres", params={}
        )
        try:
            conn = target.connect()
        except Exception as exc:
            reasons.append(f"as {user}: {one_line(exc)}")
            continue
        is_super = conn.execute(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone()[0]
        if is_super:
            return conn
        conn.close()
        reasons.append(f"as {user}: logged in, but {user} is not a superuser")
    raise Failure(
        f"a server answers on 127.0.0.1:{port}, but no PostgreSQL superuser login worked there "
        f"({'; '.join(reasons)}).\n"
        "Either let this script log in as a superuser (PGPASSWORD or ~/.pgpass), or create the "
        "roles and database yourself and set DATABASE_URL (the app role) and "
        "DATABASE_OWNER_URL (the role that owns the database and runs migrations)"
    )


def prepare_database(conn, dbname: str, app_role: str) -> None:
    """Idempotently: the owner and app roles, and the database owned by the owner role."""
    from psycopg import errors, sql

    def ensure_role(name: str, password: str, createdb: bool) -> None:
        row = conn.execute(
            "SELECT rolcanlogin, rolcreatedb, rolcreaterole, rolsuper"
            " FROM pg_roles WHERE rolname = %s",
            [name],
        ).fetchone()
        attrs = sql.SQL(
            "LOGIN NOSUPERUSER NOCREATEROLE CREATEDB"
            if createdb
            else "LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB"
        )
        if row is None:
            say(f"PostgreSQL: creating role {name}")
            with contextlib.suppress(errors.DuplicateObject):  # created meanwhile by another run
                conn.execute(
                    sql.SQL("CREATE ROLE {} {} PASSWORD {}").format(
                        sql.Identifier(name), attrs, sql.Literal(password)
                    )
                )
                return
        if row is None or tuple(row) != (True, createdb, False, False):
            say(f"PostgreSQL: setting the attributes of role {name}")
            conn.execute(sql.SQL("ALTER ROLE {} {}").format(sql.Identifier(name), attrs))

    ensure_role(OWNER_ROLE, OWNER_ROLE, createdb=True)
    ensure_role(app_role, app_role, createdb=False)

    row = conn.execute(
        "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [dbname]
    ).fetchone()
    if row is None:
        say(f"PostgreSQL: creating database {dbname} owned by {OWNER_ROLE}")
        with contextlib.suppress(errors.DuplicateDatabase):
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {} ENCODING 'UTF8' TEMPLATE template0").format(
                    sql.Identifier(dbname), sql.Identifier(OWNER_ROLE)
                )
            )
    elif row[0] != OWNER_ROLE:
        say(f"PostgreSQL: database {dbname} was owned by {row[0]}; giving it to {OWNER_ROLE}")
        conn.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                sql.Identifier(dbname), sql.Identifier(OWNER_ROLE)
            )
        )


def verify_login(admin, target: PgTarget, password: str) -> None:
    """Log in with the generated URL; reset the role's password once if that is what failed."""
    from psycopg import sql

    try:
        target.connect().close()
        return
    except Exception as first:
        first_reason = one_line(first)
    admin.execute(
        sql.SQL("ALTER ROLE {} PASSWORD {}").format(
            sql.Identifier(target.user), sql.Literal(password)
        )
    )
    try:
        target.connect().close()
    except Exception as exc:
        raise Failure(
            f"created role {target.user}, but could not log in with it at {target.describe()}: "
            f"{one_line(exc)} (before resetting its password: {first_reason})"
        ) from None


@dataclasses.dataclass
class Services:
    database_url: str
    database_owner_url: str
    redis_url: str
    test_redis_url: str

    def env(self) -> dict[str, str]:
        return {
            "DATABASE_URL": self.database_url,
            "DATABASE_OWNER_URL": self.database_owner_url,
            "REDIS_URL": self.redis_url,
            "TEST_REDIS_URL": self.test_redis_url,
        }


def find_postgres() -> tuple[str, str]:
    """(app URL, owner URL) of a ready database, starting or preparing a server as needed."""
    dbname = setting("LYCEUM_DB_NAME", "lyceum")
    app_role = setting("DATABASE_APP_ROLE", DEFAULT_APP_ROLE)
    default_port = int_setting("LYCEUM_PG_DEFAULT_PORT", 5432)

    if port_answers(default_port):
        local = False
        port = default_port
        where = f"the server on 127.0.0.1:{port}"
    else:
        local = True
        port = start_local_pg(int_setting("LYCEUM_PG_LOCAL_PORT", 54329))
        where = f"the project-local server on 127.0.0.1:{port} (data in {_rel(PG_DATA)})"

    with admin_connection(port, local) as admin:
        version = admin.execute("SHOW server_version").fetchone()[0]
        prepare_database(admin, dbname, app_role)
        owner_url = pg_url(OWNER_ROLE, OWNER_ROLE, port, dbname)
        app_url = pg_url(app_role, app_role, port, dbname)
        verify_login(admin, PgTarget.parse(owner_url, "DATABASE_OWNER_URL"), OWNER_ROLE)
        verify_login(admin, PgTarget.parse(app_url, "DATABASE_URL"), app_role)
    say(f"PostgreSQL {version}: {where}; database {dbname}, roles {OWNER_ROLE} and {app_role}")
    return app_url, owner_url


# --------------------------------------------------------------------------------------------
# Redis


def redis_where(url: str, source: str = "") -> str:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"the socket {parts.path}{source and f' ({source[2:]})'}"
    db = parts.path.lstrip("/") or "0"
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379} (database {db}{source})"


def ping_redis(url: str) -> str:
    """PING url; return the server version, or raise."""
    redis = import_or_fail("redis")
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
        return str(client.info("server").get("redis_version", "?"))
    finally:
        client.close()


def check_redis(url: str, variable: str) -> str:
    if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise Failure(f"{variable} must be a redis:// URL, not {mask(url)!r}")
    try:
        return ping_redis(url)
    except Failure:
        raise
    except Exception as exc:
        source = "" if variable == "REDIS_URL" else f", from {variable}"
        raise Failure(
            f"could not reach Redis at {redis_where(url, source)}: {one_line(exc)}"
        ) from None


def local_redis_running() -> tuple[int, int] | None:
    """(pid, port) of the project-local Redis when it runs, else None."""
    try:
        pid = int(REDIS_PID.read_text().strip())
    except (OSError, ValueError):
        return None
    title = process_cmdline(pid)
    if not process_alive(pid) or "redis-server" not in title:
        return None
    match = re.search(r":(\d+)\b", title)
    return pid, int(match.group(1)) if match else int_setting("LYCEUM_REDIS_LOCAL_PORT", 63799)


def start_local_redis(port: int) -> int:
    running = local_redis_running()
    if running:
        pid, running_port = running
        if running_port != port:
            note(
                f"the project-local Redis already runs on port {running_port}, not "
                f"LYCEUM_REDIS_LOCAL_PORT={port}; `make stop` first to move it"
            )
        say(f"Redis: using the project-local server (pid {pid}, port {running_port})")
        return running_port
    if port_answers(port):
        raise Failure(
            f"port {port} (LYCEUM_REDIS_LOCAL_PORT) is in use by something other than the "
            "project-local Redis: stop it, or set LYCEUM_REDIS_LOCAL_PORT to a free port "
            "(or REDIS_URL to a server you have)"
        )
    server = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if server is None:
        apt_install(["redis-server"], "no Redis server binary (redis-server) is installed")
        server = shutil.which("redis-server") or "/usr/bin/redis-server"
    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    argv = [server, "--port", str(port), "--bind", "127.0.0.1", "--daemonize", "yes"]
    argv += ["--dir", str(REDIS_DIR), "--save", "", "--appendonly", "no"]
    argv += ["--pidfile", str(REDIS_PID), "--logfile", str(REDIS_LOG)]
    say(f"Redis: starting the project-local server on 127.0.0.1:{port}")
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 15
    while True:
        try:
            ping_redis(url)
            return port
        except Failure:
            raise
        except Exception as exc:
            if time.monotonic() > deadline or result.returncode != 0:
                raise Failure(
                    f"could not start the project-local Redis (exit {result.returncode}, "
                    f"{one_line(exc)}):\n{result.stdout}{result.stderr}{tail(REDIS_LOG)}"
                ) from None
        time.sleep(0.1)


def with_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        query = [p for p in parts.query.split("&") if p and not p.startswith("db=")]
        return urlunsplit(parts._replace(query="&".join([*query, f"db={db}"])))
    return urlunsplit(parts._replace(path=f"/{db}"))


def find_redis() -> tuple[str, str]:
    """(REDIS_URL, TEST_REDIS_URL) for a Redis that answers, starting one if needed."""
    default_port = int_setting("LYCEUM_REDIS_DEFAULT_PORT", 6379)
    url = f"redis://127.0.0.1:{default_port}/0"
    try:
        version = ping_redis(url)
        where = f"the server on 127.0.0.1:{default_port}"
    except Failure:
        raise
    except Exception:
        port = start_local_redis(int_setting("LYCEUM_REDIS_LOCAL_PORT", 63799))
        url = f"redis://127.0.0.1:{port}/0"
        version = check_redis(url, "REDIS_URL")
        where = f"the project-local server on 127.0.0.1:{port} (files in {_rel(VAR)})"
    say(f"Redis {version}: {where}")
    return url, with_db(url, TEST_REDIS_DB)


# --------------------------------------------------------------------------------------------
# services / stop-services


def services() -> Services:
    """Find or start PostgreSQL and Redis, prepare the database, write .var/lyceum.env."""
    database_url = setting("DATABASE_URL")
    owner_url = setting("DATABASE_OWNER_URL")
    redis_url = setting("REDIS_URL")
    test_redis_url = setting("TEST_REDIS_URL")

    # First what the user configured: every problem with it is reported before anything starts.
    problems: list[str] = []
    versions: dict[str, str] = {}

    def check(variable: str, url: str, checker) -> None:
        try:
            versions[variable] = checker(url, variable)
        except Failure as exc:
            problems.append(str(exc))

    def pg_checker(url: str, variable: str) -> str:
        return check_pg(PgTarget.parse(url, variable), variable)

    if owner_url and not database_url:
        problems.append("DATABASE_OWNER_URL is set but DATABASE_URL is not: set both, or neither")
    if database_url:
        check("DATABASE_URL", database_url, pg_checker)
    if database_url and owner_url and owner_url != database_url:
        check("DATABASE_OWNER_URL", owner_url, pg_checker)
    if redis_url:
        check("REDIS_URL", redis_url, check_redis)
    if test_redis_url and test_redis_url != redis_url:
        check("TEST_REDIS_URL", test_redis_url, check_redis)
    if problems:
        for problem in problems[:-1]:
            print(f"error: {problem}", file=sys.stderr)
        raise Failure(problems[-1])

    if database_url:
        owner_url = owner_url or database_url
        say(
            f"PostgreSQL {versions['DATABASE_URL']}: DATABASE_URL "
            f"{mask(database_url)} (migrations as {mask(owner_url)})"
        )
    else:
        database_url, owner_url = find_postgres()
    if redis_url:
        say(f"Redis {versions['REDIS_URL']}: REDIS_URL {mask(redis_url)}")
        default_test_url = with_db(redis_url, TEST_REDIS_DB)
    else:
        redis_url, default_test_url = find_redis()
    test_redis_url = test_redis_url or default_test_url

    found = Services(database_url, owner_url, redis_url, test_redis_url)
    write_env_file(found)
    return found


def write_env_file(found: Services) -> None:
    VAR.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Written by scripts/lyceum.py (`make services`); rewritten on every run.",
        "# The Django settings read it; real environment variables and .env take precedence.",
        *(f"{key}={value}" for key, value in found.env().items()),
    ]
    tmp = ENV_FILE.with_name(ENV_FILE.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    tmp.replace(ENV_FILE)
    say(f"wrote {_rel(ENV_FILE)}:")
    for key, value in found.env().items():
        say(f"    {key}={mask(value)}")


def stop_services() -> int:
    stopped = False
    running = local_pg_running()
    if running:
        pid, port = running
        say(f"stopping the project-local PostgreSQL (pid {pid}, port {port})")
        os.kill(pid, signal.SIGINT)  # "fast" shutdown: roll back open transactions, exit
        if not wait_gone(pid, 60):
            raise Failure(f"PostgreSQL (pid {pid}) did not stop within 60 s; see {_rel(PG_LOG)}")
        stopped = True
    running = local_redis_running()
    if running:
        pid, port = running
        say(f"stopping the project-local Redis (pid {pid}, port {port})")
        os.kill(pid, signal.SIGTERM)
        if not wait_gone(pid, 30):
            raise Failure(f"Redis (pid {pid}) did not stop within 30 s; see {_rel(REDIS_LOG)}")
        stopped = True
    if not stopped:
        say(f"no project-local PostgreSQL or Redis is running under {_rel(VAR)}")
    return 0


# --------------------------------------------------------------------------------------------
# Django commands


def django_env(found: Services, database_url: str, settings: str | None) -> dict[str, str]:
    env = {**os.environ, **found.env(), "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
    if settings:
        env["DJANGO_SETTINGS_MODULE"] = settings
    else:
        # pytest-django would prefer an exported DJANGO_SETTINGS_MODULE over pyproject.toml's.
        env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def step(title: str, argv: list[str], env: dict[str, str]) -> None:
    """Run one step in the foreground; raise a Failure with its exit status if it fails."""
    say(f"\n==> {title}")
    result = subprocess.run(argv, env=env, cwd=ROOT, check=False)
    if result.returncode != 0:
        code = result.returncode if result.returncode > 0 else 1
        hint = " (pytest collected no tests)" if title.startswith("pytest") and code == 5 else ""
        raise Failure(f"{title} failed (exit {result.returncode}){hint}", code=code)


def migrate(found: Services) -> None:
    # Migrations run as the owner role: it owns the tables and grants the app role (core 0001).
    env = django_env(found, found.database_owner_url, "config.settings.local")
    step(
        "manage.py migrate --noinput (as the owner role)",
        [sys.executable, str(MANAGE), "migrate", "--noinput"],
        env,
    )


def lint_steps() -> list[tuple[str, list[str]]]:
    return [
        ("ruff check .", [str(BIN / "ruff"), "check", "."]),
        ("ruff format --check .", [str(BIN / "ruff"), "format", "--check", "."]),
        ("lint-imports", [str(BIN / "lint-imports")]),
    ]


def cmd_lint(_args: argparse.Namespace) -> int:
    for title, argv in lint_steps():
        step(title, argv, dict(os.environ))
    return 0


def cmd_services(_args: argparse.Namespace) -> int:
    services()
    return 0


def cmd_stop_services(_args: argparse.Namespace) -> int:
    return stop_services()


def cmd_migrate(_args: argparse.Namespace) -> int:
    migrate(services())
    return 0


def ensure_chromium() -> None:
    needed = {"/usr/bin/chromium": "chromium", "/usr/bin/chromedriver": "chromium-driver"}
    missing = [package for path, package in needed.items() if not Path(path).exists()]
    if missing:
        apt_install(missing, "the browser tests need Debian's chromium and chromium-driver")


def cmd_test(args: argparse.Namespace) -> int:
    found = services()
    ensure_chromium()
    owner = django_env(found, found.database_owner_url, "config.settings.local")
    steps = [
        *lint_steps(),
        ("manage.py check", [sys.executable, str(MANAGE), "check"]),
        (
            "manage.py makemigrations --check --dry-run",
            [sys.executable, str(MANAGE), "makemigrations", "--check", "--dry-run"],
        ),
    ]
    for title, argv in steps:
        step(title, argv, owner)
    # pytest-django creates the test database, so pytest connects as the owner (it has CREATEDB).
    extra = shlex.split(setting("PYTEST_ARGS")) + list(args.pytest_args)
    pytest = [str(BIN / "pytest"), *extra]
    step(" ".join(["pytest", *extra]), pytest, django_env(found, found.database_owner_url, None))
    say("\nall checks passed")
    return 0


# --------------------------------------------------------------------------------------------
# run: web, worker and beat under one supervisor


@dataclasses.dataclass
class Child:
    name: str
    argv: list[str]
    proc: subprocess.Popen | None = None
    reader: threading.Thread | None = None

    def group_alive(self) -> bool:
        if self.proc is None:
            return False
        self.proc.poll()  # reap the leader, so a zombie does not count
        try:
            # Each child leads a session of its own, so its pid is its process group.
            os.killpg(self.proc.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def signal_group(self, signum: int) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signum)


_print_lock = threading.Lock()


def _pump(child: Child, width: int) -> None:
    """Copy a child's output to ours, each line prefixed with the child's name."""
    if child.proc is None or child.proc.stdout is None:
        return
    prefix = f"{child.name:<{width}} | ".encode()
    out = sys.stdout.buffer
    for line in iter(child.proc.stdout.readline, b""):
        with _print_lock:
            out.write(prefix + line if line.endswith(b"\n") else prefix + line + b"\n")
            out.flush()


def banner(port: int, status: int) -> None:
    base = f"http://127.0.0.1:{port}"
    width = max(len(email) for email, _, _ in DEMO_LOGINS)
    health = "ok" if status == 200 else f"HTTP {status} (see {base}/healthz)"
    lines = [
        "",
        "=" * 72,
        "Lyceum is running",
        f"  site:       {base}/",
        f"  admin:      {base}/admin/",
        f"  API docs:   {base}/api/v1/docs/",
        f"  health:     {health}",
        "  demo logins (e-mail / password):",
        *(f"    {email:<{width}}  {password:<17} {role}" for email, password, role in DEMO_LOGINS),
        f"  {DEMO_TWO_FACTOR}",
        f"  {DEMO_API}",
        "Press Ctrl-C to stop web, worker and beat.",
        "=" * 72,
        "",
    ]
    with _print_lock:
        print("\n".join(lines), flush=True)


def health_status(port: int) -> int | None:
    """The HTTP status of /healthz, or None when nothing answers yet."""
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, ValueError):
        return None


def stop_children(children: list[Child]) -> None:
    running = [child for child in children if child.group_alive()]
    if running:
        with _print_lock:
            say(f"stopping {', '.join(child.name for child in running)}")
    for child in running:
        child.signal_group(signal.SIGTERM)
    deadline = time.monotonic() + SHUTDOWN_GRACE
    while time.monotonic() < deadline and any(child.group_alive() for child in running):
        time.sleep(0.1)
    for child in running:
        if child.group_alive():
            with _print_lock:
                say(f"{child.name} did not stop within {SHUTDOWN_GRACE:.0f} s: killing it")
            child.signal_group(signal.SIGKILL)
    for child in children:
        if child.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.proc.wait(timeout=5)
        if child.reader is not None:
            child.reader.join(timeout=2)


def web_port() -> int:
    port = int_setting("PORT", 8000)
    if not port_free(port):
        raise Failure(
            f"port {port} is already in use; set PORT=... to another port "
            f"(e.g. PORT={port + 1} make run)"
        )
    return port


def cmd_run(_args: argparse.Namespace) -> int:
    web_port()  # fail before anything slow when the port is taken
    found = services()
    migrate(found)
    app_env = django_env(found, found.database_url, "config.settings.local")
    step("manage.py seed_demo", [sys.executable, str(MANAGE), "seed_demo"], app_env)
    port = web_port()  # again: something may have taken it meanwhile

    celery = str(BIN / "celery")
    children = [
        Child("web", [sys.executable, str(MANAGE), "runserver", f"127.0.0.1:{port}"]),
        Child(
            "worker",
            [
                celery,
                "-A",
                "config",
                "worker",
                "-l",
                "info",
                "--concurrency",
                "2",
                "-n",
                "worker@%h",
            ],
        ),
        Child(
            "beat",
            [celery, "-A", "config", "beat", "-l", "info", "-S", BEAT_SCHEDULER],
        ),
    ]
    stop_signal: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        stop_signal.append(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    width = max(len(child.name) for child in children)
    say(f"\n==> starting {', '.join(child.name for child in children)}")
    try:
        for child in children:
            child.proc = subprocess.Popen(
                child.argv,
                cwd=ROOT,
                env=app_env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            child.reader = threading.Thread(target=_pump, args=(child, width), daemon=True)
            child.reader.start()

        started = time.monotonic()
        announced = False
        while not stop_signal:
            for child in children:
                code = child.proc.poll() if child.proc else None
                if code is not None:
                    time.sleep(0.3)  # let its last lines through
                    with _print_lock:
                        print(
                            f"error: {child.name} exited on its own (exit {code}): "
                            f"{shlex.join(child.argv)}",
                            file=sys.stderr,
                            flush=True,
                        )
                    stop_children(children)
                    return code if code and code > 0 else 1
            if not announced:
                status = health_status(port)
                waited = time.monotonic() - started
                # Announce once all green, or once the web answers and the worker had its time.
                if status == 200 or (status is not None and waited > HEALTH_GREEN_WAIT):
                    banner(port, status)
                    announced = True
                elif time.monotonic() - started > HEALTH_TIMEOUT:
                    with _print_lock:
                        print(
                            f"error: http://127.0.0.1:{port}/healthz did not answer within "
                            f"{HEALTH_TIMEOUT:.0f} s",
                            file=sys.stderr,
                            flush=True,
                        )
                    stop_children(children)
                    return 1
            time.sleep(0.5 if announced else 0.25)
    finally:
        if stop_signal or any(child.group_alive() for child in children):
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not orphan them
            stop_children(children)
    name = signal.Signals(stop_signal[0]).name
    say(f"stopped on {name}")
    return 0


# --------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lyceum.py",
        description="Find or start PostgreSQL and Redis, then run or test Lyceum.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "services", help="find or start PostgreSQL and Redis, write .var/lyceum.env"
    ).set_defaults(func=cmd_services)
    commands.add_parser(
        "stop-services", help="stop the project-local servers under .var/"
    ).set_defaults(func=cmd_stop_services)
    commands.add_parser(
        "migrate", help="services, then manage.py migrate as the owner role"
    ).set_defaults(func=cmd_migrate)
    commands.add_parser(
        "run", help="services, migrate, seed_demo, then web, worker and beat"
    ).set_defaults(func=cmd_run)
    commands.add_parser("lint", help="ruff check, ruff format --check, lint-imports").set_defaults(
        func=cmd_lint
    )
    test = commands.add_parser(
        "test", help="services, lint, Django checks, pytest (extra args go to pytest)"
    )
    test.add_argument("pytest_args", nargs="*", metavar="PYTEST_ARG", help="passed on to pytest")
    test.set_defaults(func=cmd_test)
    return parser


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = build_parser()
    if argv[:1] == ["test"] and argv[1:] not in (["-h"], ["--help"]):
        # Everything after `test` belongs to pytest, options included (-k, -x, --lf, ...).
        args = parser.parse_args(["test"])
        extra = argv[1:]
        args.pytest_args = extra[1:] if extra[:1] == ["--"] else extra
        return args
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return int(args.func(args))
    except Failure as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return exc.code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr, flush=True)
        return 130
    except BrokenPipeError:  # our output was piped into something that stopped reading
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (silence the flush at exit)
        return 1


if __name__ == "__main__":
    sys.exit(main())
