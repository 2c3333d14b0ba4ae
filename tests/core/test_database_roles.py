"""The app role that web and worker use: DML on app tables, no DDL."""

import uuid

import pytest
from django.conf import settings
from psycopg import errors

from tests.conftest import database_connect

pytestmark = pytest.mark.django_db


@pytest.fixture
def app_role_connection(db):
    """A separate connection to the test database as the app role, rolled back at the end."""
    conn = database_connect()
    yield conn
    conn.rollback()
    conn.close()


def test_app_role_is_not_the_migration_owner(app_role_connection):
    row = app_role_connection.execute(
        "SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    assert row == (False, False, False)
    owner = app_role_connection.execute(
        "SELECT tableowner FROM pg_tables WHERE schemaname = 'accounts' AND tablename = 'user'"
    ).fetchone()[0]
    assert owner != settings.DATABASE_APP_ROLE


def test_app_role_reads_and_writes_app_tables(app_role_connection):
    user_id = uuid.uuid4()
    cur = app_role_connection.cursor()
    cur.execute(
        """
        INSERT INTO "accounts"."user" (id, password, is_superuser, email, username, first_name,
            last_name, is_staff, is_active, date_joined, created_at, updated_at)
        VALUES (%s, '!', false, 'app-role@example.org', 'app-role', '', '', false, true,
            now(), now(), now())
        """,
        [user_id],
    )
    cur.execute('UPDATE "accounts"."user" SET first_name = %s WHERE id = %s', ["Ana", user_id])
    assert cur.execute(
        'SELECT first_name FROM "accounts"."user" WHERE id = %s', [user_id]
    ).fetchone() == ("Ana",)
    # The audit triggers ran with the app role's rights: the trail is written too.
    assert cur.execute(
        'SELECT count(*) FROM "audit"."accounts_user_event" WHERE pgh_obj_id = %s', [user_id]
    ).fetchone() == (2,)
    cur.execute('DELETE FROM "accounts"."user" WHERE id = %s', [user_id])
    assert cur.rowcount == 1


def test_app_role_uses_sequences_of_public_tables(app_role_connection):
    cur = app_role_connection.cursor()
    cur.execute(
        "INSERT INTO core_workerheartbeat (hostname, last_seen_at, beats) "
        "VALUES ('app-role-test', now(), 1) RETURNING id"
    )
    assert cur.fetchone()[0] > 0


@pytest.mark.parametrize(
    "statement",
    [
        'CREATE TABLE "accounts"."intruder" (id int)',
        "CREATE TABLE public.intruder (id int)",
        'CREATE SCHEMA "intruder"',
        'DROP SCHEMA "content"',
        'DROP TABLE "accounts"."user"',
        'ALTER TABLE "accounts"."user" ADD COLUMN intruder int',
        'TRUNCATE "accounts"."user"',
    ],
)
def test_app_role_cannot_change_the_schema(app_role_connection, statement):
    with pytest.raises(errors.InsufficientPrivilege):
        app_role_connection.execute(statement)
