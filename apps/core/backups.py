"""Backups with pg_dump/pg_restore: checksummed, recorded, pruned by policy, restorable into a
named database (ADR 0012-operations)."""

import hashlib
import os
import subprocess
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.core.models import BackupRecord


class BackupError(Exception):
    """A backup or restore step failed; the message says which and why."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _pg_env(db: dict) -> dict[str, str]:
    env = {
        **os.environ,
        "PGHOST": str(db["HOST"] or "127.0.0.1"),
        "PGPORT": str(db["PORT"] or 5432),
        "PGUSER": db["USER"],
    }
    if db["PASSWORD"]:
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    # Fixed PostgreSQL client programs; arguments are our own paths and database names.
    completed = subprocess.run(  # noqa: S603
        args, env=env, capture_output=True, text=True, timeout=3600
    )
    if completed.returncode != 0:
        raise BackupError(f"{what} failed: {completed.stderr.strip() or completed.stdout.strip()}")


def backup_create(*, directory: Path | None = None) -> BackupRecord:
    """Dump the current database and the roles it uses; record and checksum both.
    Raises BackupError (the record is kept, status failed)."""
    db = connection.settings_dict
    directory = Path(directory or settings.BACKUP_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    record = BackupRecord.objects.create(database=db["NAME"])
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
    dump = directory / f"{db['NAME']}-{stamp}-{record.pk}.dump"
    roles = directory / f"{db['NAME']}-{stamp}-{record.pk}.roles.sql"
    env = _pg_env(db)
    try:
        _run(["pg_dump", "--format=custom", "--file", str(dump), db["NAME"]], env, "pg_dump")
        # Roles without passwords: readable by a non-superuser owner; passwords are set anew.
        _run(
            [
                "pg_dumpall",
                "--roles-only",
                "--no-role-passwords",
                "--file",
                str(roles),
                "--database",
                db["NAME"],
            ],
            env,
            "pg_dumpall --roles-only",
        )
    except (BackupError, OSError, subprocess.TimeoutExpired) as error:
        record.status = BackupRecord.Status.FAILED
        record.error = str(error)
        record.finished_at = timezone.now()
        record.save()
        raise BackupError(str(error)) from error
    record.path, record.roles_path = str(dump), str(roles)
    record.size_bytes = dump.stat().st_size
    record.sha256, record.roles_sha256 = _sha256(dump), _sha256(roles)
    record.status = BackupRecord.Status.OK
    record.finished_at = timezone.now()
    record.save()
    return record


def backup_prune(*, keep: int | None = None) -> list[BackupRecord]:
    """Delete the files of all but the newest `keep` good backups (records stay, as pruned)."""
    keep = settings.BACKUP_KEEP if keep is None else keep
    pruned = []
    for record in BackupRecord.objects.filter(status=BackupRecord.Status.OK)[keep:]:
        for path in (record.path, record.roles_path):
            if path:
                Path(path).unlink(missing_ok=True)
        record.status = BackupRecord.Status.PRUNED
        record.save(update_fields=["status"])
        pruned.append(record)
    return pruned


def backup_restore(*, record: BackupRecord, into: str) -> None:
    """Restore a backup into a new database `into` (which must not exist), after checking the
    file against its checksum. Raises BackupError."""
    if record.status != BackupRecord.Status.OK:
        raise BackupError(f"backup {record.pk} is {record.status}, not restorable")
    dump = Path(record.path)
    if not dump.exists():
        raise BackupError(f"backup file {dump} is missing")
    if _sha256(dump) != record.sha256:
        raise BackupError(f"backup file {dump} does not match its checksum")
    if not into.replace("_", "").isalnum():
        raise BackupError("the target database name may hold letters, digits and _ only")
    env = _pg_env(connection.settings_dict)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [into])
        if cursor.fetchone():
            raise BackupError(f"database {into} already exists; choose a new name")
    _run(["createdb", into], env, "createdb")
    try:
        _run(
            ["pg_restore", "--exit-on-error", "--no-owner", "--dbname", into, str(dump)],
            env,
            "pg_restore",
        )
    except BackupError:
        _run(["dropdb", "--if-exists", into], env, "dropdb")
        raise
