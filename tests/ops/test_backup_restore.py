"""Backups: a round trip through pg_dump and pg_restore keeps every row."""

import uuid
from pathlib import Path

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apps.core.backups import BackupError, backup_create, backup_prune, backup_restore
from apps.core.models import BackupRecord
from apps.progress import services
from tests.accounts.factories import UserFactory
from tests.content.factories import CourseFactory, LessonFactory, ModuleFactory, published

KEY_TABLES = (
    '"accounts"."user"',
    '"content"."course"',
    '"progress"."enrollment"',
    '"audit"."accounts_user_event"',
)


def fingerprint(conn_params: dict, dbname: str) -> dict[str, tuple[int, str]]:
    """Row count and an md5 over the ordered ids of each key table."""
    result = {}
    with psycopg.connect(
        host=conn_params["HOST"] or "127.0.0.1",
        port=conn_params["PORT"] or 5432,
        user=conn_params["USER"],
        password=conn_params["PASSWORD"] or None,
        dbname=dbname,
    ) as conn:
        for table in KEY_TABLES:
            key = "pgh_id" if "event" in table else "id"
            result[table] = conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg({key}::text, ',' ORDER BY {key}), '')) "
                f"FROM {table}"
            ).fetchone()
    return result


@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_into_a_scratch_database_keeps_every_row(tmp_path):
    course = published(CourseFactory())
    LessonFactory(module=ModuleFactory(course=course))
    for _ in range(3):
        services.enrollment_create(user=UserFactory(), course=course)
    record = backup_create(directory=tmp_path)
    assert record.status == "ok" and len(record.sha256) == 64
    assert Path(record.path).stat().st_size == record.size_bytes
    assert "CREATE ROLE" in Path(record.roles_path).read_text()
    scratch = f"lyceum_restore_{uuid.uuid4().hex[:8]}"
    params = connection.settings_dict
    try:
        call_command("restore", str(record.pk), "--into", scratch)
        source = fingerprint(params, params["NAME"])
        restored = fingerprint(params, scratch)
        assert restored == source
        assert source['"progress"."enrollment"'][0] == 3
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


@pytest.mark.django_db
def test_a_tampered_backup_is_refused(tmp_path):
    record = BackupRecord.objects.create(
        database="x", path=str(tmp_path / "x.dump"), sha256="0" * 64, status="ok"
    )
    (tmp_path / "x.dump").write_bytes(b"not what was written")
    with pytest.raises(BackupError, match="does not match its checksum"):
        backup_restore(record=record, into="lyceum_never_created")


@pytest.mark.django_db
def test_restore_command_errors_are_clear():
    with pytest.raises(CommandError, match="no backup with id"):
        call_command("restore", "999999", "--into", "whatever")


@pytest.mark.django_db
def test_prune_keeps_the_newest(tmp_path):
    records = []
    for n in range(4):
        path = tmp_path / f"{n}.dump"
        path.write_bytes(b"x")
        records.append(
            BackupRecord.objects.create(database="x", path=str(path), sha256="a" * 64, status="ok")
        )
    pruned = backup_prune(keep=2)
    assert {r.pk for r in pruned} == {records[0].pk, records[1].pk}
    assert not (tmp_path / "0.dump").exists() and (tmp_path / "3.dump").exists()
