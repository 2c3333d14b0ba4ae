"""Throwaway PostgreSQL clusters for tests that must stop, restart or replicate a server.

Never the shared server: each cluster is initdb'ed in a temporary directory and listens on a
free port on 127.0.0.1 (TCP only). As root, PostgreSQL runs as the `postgres` OS user, the way
scripts/lyceum.py runs the project-local server. `template()` initialises and migrates one
cluster per test session; `clone()` copies it (stopped) so each test gets a fresh, migrated
server in a second instead of migrating again. Everything is stopped and removed at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

BASE_DIR = Path(__file__).resolve().parent.parent
OWNER = "lyceum_owner"
APP = "lyceum_app"
DBNAME = "lyceum"
# Fast and small: durability does not matter for a server that lives a minute.
CONF = """
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
fsync = off
synchronous_commit = off
shared_buffers = 32MB
max_connections = 60
wal_level = replica
max_wal_senders = 5
hot_standby = on
log_min_messages = warning
"""


class ClusterError(RuntimeError):
    pass


def bin_dir() -> Path:
    """initdb/pg_ctl: PATH first, then Debian's versioned dirs (15 preferred)."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    for candidate in sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: (p.parent.name != "15", p)
    ):
        if (candidate / "pg_ctl").exists() and (candidate / "initdb").exists():
            return candidate
    raise ClusterError("no PostgreSQL server binaries (initdb, pg_ctl) found")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(argv: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the `postgres` OS user."""
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


def _chown(path: Path) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _run(argv: list[str], what: str, timeout: float = 120) -> None:
    result = subprocess.run(
        _as_postgres(argv), capture_output=True, text=True, check=False, cwd="/", timeout=timeout
    )
    if result.returncode != 0:
        raise ClusterError(f"{what} failed ({result.returncode}): {result.stdout}{result.stderr}")


_LIVE: list[Cluster] = []


class Cluster:
    """One PostgreSQL server: a data directory, a port, a log."""

    def __init__(self, root: Path, port: int | None = None):
        self.root = root
        self.data = root / "data"
        self.log = root / "server.log"
        self.port = port or free_port()
        _LIVE.append(self)

    @classmethod
    def create(cls) -> Cluster:
        root = Path(tempfile.mkdtemp(prefix="lyceum-pg-"))
        root.chmod(0o755)
        _chown(root)
        cluster = cls(root)
        argv = [str(bin_dir() / "initdb"), "-D", str(cluster.data), "-U", "postgres"]
        _run([*argv, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"], "initdb")
        with (cluster.data / "postgresql.conf").open("a") as conf:
            conf.write(CONF)
        return cluster

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> Cluster:
        self.log.touch(exist_ok=True)
        _chown(self.log)
        argv = [str(bin_dir() / "pg_ctl"), "-D", str(self.data), "-l", str(self.log)]
        _run([*argv, "-o", f"-p {self.port}", "-w", "-t", "60", "start"], "pg_ctl start")
        return self

    def stop(self, mode: str = "fast") -> None:
        if not self.running():
            return
        argv = [str(bin_dir() / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60"]
        _run([*argv, "stop"], "pg_ctl stop")

    def running(self) -> bool:
        pid_file = self.data / "postmaster.pid"
        if not pid_file.exists():
            return False
        try:
            pid = int(pid_file.read_text().split()[0])
            os.kill(pid, 0)
        except (OSError, ValueError, IndexError):
            return False
        return True

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.stop(mode="immediate")
        shutil.rmtree(self.root, ignore_errors=True)
        if self in _LIVE:
            _LIVE.remove(self)

    # -- access -----------------------------------------------------------------------------

    def url(self, user: str = APP, dbname: str = DBNAME) -> str:
        return f"postgres://{user}:{user}@127.0.0.1:{self.port}/{dbname}"

    def connect(self, user: str = "postgres", dbname: str = DBNAME) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=user,
            password=user,
            dbname=dbname,
            autocommit=True,
            connect_timeout=3,
        )

    def query(self, sql: str, params=None, *, dbname: str = DBNAME):
        with self.connect(dbname=dbname) as conn:
            return conn.execute(sql, params).fetchall()

    # -- building ---------------------------------------------------------------------------

    def prepare(self) -> None:
        """The owner and app roles and the database, as scripts/lyceum.py creates them."""
        with self.connect(dbname="postgres") as conn:
            conn.execute(f"CREATE ROLE {OWNER} LOGIN CREATEDB PASSWORD '{OWNER}'")
            conn.execute(f"CREATE ROLE {APP} LOGIN PASSWORD '{APP}'")
            conn.execute(f"CREATE DATABASE {DBNAME} OWNER {OWNER} TEMPLATE template0")

    def load(self, source: dict) -> None:
        """Copy a migrated database into this cluster's `lyceum` database: pg_dump of the
        session's test database (which pytest-django has just migrated), restored with its
        owners and grants. Much faster than migrating again on a busy machine."""
        dump = self.root / "source.dump"
        env = {**os.environ, "PGPASSWORD": source.get("PASSWORD") or ""}
        argv = [str(bin_dir() / "pg_dump"), "-Fc", "-f", str(dump)]
        argv += ["-h", source.get("HOST") or "127.0.0.1", "-p", str(source.get("PORT") or 5432)]
        argv += ["-U", source["USER"], source["NAME"]]
        result = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
        if result.returncode != 0:
            raise ClusterError(f"pg_dump failed: {result.stderr}")
        _chown(dump)
        argv = [str(bin_dir() / "pg_restore"), "-h", "127.0.0.1", "-p", str(self.port)]
        argv += ["-U", "postgres", "-d", DBNAME, "--no-comments", str(dump)]
        result = subprocess.run(
            _as_postgres(argv), capture_output=True, text=True, check=False, cwd="/"
        )
        dump.unlink()
        # Grants to roles this cluster lacks fail harmlessly; the tables must be there.
        applied = self.query("SELECT count(*) FROM django_migrations")[0][0]
        if not applied:
            raise ClusterError(f"pg_restore left no migrations: {result.stderr}")

    def clone(self) -> Cluster:
        """A copy of this (stopped) cluster on a new port."""
        if self.running():
            raise ClusterError("stop the cluster before cloning it")
        root = Path(tempfile.mkdtemp(prefix="lyceum-pg-"))
        root.chmod(0o755)
        _chown(root)
        copy = Cluster(root)
        subprocess.run(["cp", "-a", str(self.data), str(copy.data)], check=True)
        return copy

    def standby(self) -> Cluster:
        """A streaming replica of this (running) cluster: pg_basebackup -R, then started."""
        root = Path(tempfile.mkdtemp(prefix="lyceum-pg-standby-"))
        root.chmod(0o755)
        _chown(root)
        replica = Cluster(root)
        argv = [str(bin_dir() / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.port)]
        argv += ["-U", "postgres", "-D", str(replica.data), "-R", "-X", "stream"]
        _run([*argv, "--checkpoint=fast"], "pg_basebackup")
        return replica.start()


def django_env(primary: Cluster, *, owner: bool = False, **extra: str) -> dict[str, str]:
    """Environment for a Django process on this cluster (as the app role unless owner)."""
    url = primary.url(OWNER if owner else APP)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "PYTEST_", "DJANGO_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": url,
            # Test settings prefer the owner URL: point it at the same role.
            "DATABASE_OWNER_URL": url,
            "DATABASE_CONN_MAX_AGE": "60",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if "TEST_REDIS_URL" in os.environ:
        env["TEST_REDIS_URL"] = os.environ["TEST_REDIS_URL"]
    env.update(extra)
    return env


_TEMPLATE: Cluster | None = None


def template(source: dict) -> Cluster:
    """One initialised and migrated cluster per session (stopped), to clone from; source is
    the settings dict of the (migrated) test database."""
    global _TEMPLATE
    if _TEMPLATE is None:
        cluster = Cluster.create().start()
        try:
            cluster.prepare()
            cluster.load(source)
            cluster.stop()
        except BaseException:
            cluster.destroy()
            raise
        _TEMPLATE = cluster
    return _TEMPLATE


def migrated_cluster(source: dict) -> Cluster:
    """A fresh, running, migrated cluster (a clone of the session's template)."""
    return template(source).clone().start()


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


@atexit.register
def _cleanup() -> None:
    for cluster in list(_LIVE):
        cluster.destroy()
