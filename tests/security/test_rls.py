"""Proof of row-level security (docs/adr/0017-row-level-security.md), through raw SQL as the app
role with no WHERE clause: every protected table shows each viewer exactly the rows the policies
promise, nothing without a context, and refuses forged inserts and updates."""

import json
import uuid

import pytest
from django.conf import settings
from django.db import connection
from psycopg import errors

from apps.progress.models import Enrollment
from tests.accounts.factories import UserFactory
from tests.conftest import database_connect
from tests.content.factories import CourseFactory, LessonFactory, ModuleFactory, published
from tests.security.conftest import TABLES, as_viewer, quoted

pytestmark = pytest.mark.django_db(transaction=True)


def visible_ids(conn, table: str) -> set[str]:
    return {row[0] for row in conn.execute(f"SELECT t.id::text FROM {quoted(table)} t")}


def test_every_protected_table_has_rls_enabled_and_the_app_role_does_not_own_it(db):
    with connection.cursor() as cursor:
        for table in TABLES:
            schema, name = table.split(".")
            cursor.execute(
                "SELECT c.relrowsecurity, c.relforcerowsecurity, pg_get_userbyid(c.relowner), "
                "(SELECT count(*) FROM pg_policies p WHERE p.schemaname = n.nspname "
                " AND p.tablename = c.relname) "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relname = %s",
                [schema, name],
            )
            enabled, forced, owner, policies = cursor.fetchone()
            assert enabled, table
            # ENABLE binds every role but the owner; the app role owns nothing, so no FORCE.
            assert not forced, table
            assert owner != settings.DATABASE_APP_ROLE, table
            assert policies >= 3, table
        cursor.execute(
            "SELECT rolbypassrls FROM pg_roles WHERE rolname = %s", [settings.DATABASE_APP_ROLE]
        )
        assert cursor.fetchone() == (False,)


def test_no_context_means_no_rows(world, app_db):
    assert app_db.execute("SELECT current_user").fetchone()[0] == settings.DATABASE_APP_ROLE
    for viewer in (None, "request without a user"):
        if viewer is None:
            as_viewer(app_db, None)
        else:
            app_db.execute("SELECT set_config('app.context', 'request', true)")
        for table in TABLES:
            assert visible_ids(app_db, table) == set(), (viewer, table)
    # An unknown context is no context.
    app_db.execute("SELECT set_config('app.context', 'admin', true)")
    for table in TABLES:
        assert visible_ids(app_db, table) == set(), table


def test_each_viewer_sees_exactly_the_rows_the_policies_promise(world, app_db):
    wrong = []
    for viewer in world.viewers.values():
        as_viewer(app_db, viewer)
        for table in TABLES:
            seen, expected = visible_ids(app_db, table), world.expected(viewer, table)
            if seen != expected:
                wrong.append((viewer.name, table, len(seen), len(expected)))
    assert wrong == []
    # And the promises are not trivial: learners see some rows, not all, of every table.
    anna = world.viewers["anna (learner)"]
    for table in TABLES:
        assert 0 < len(world.expected(anna, table)) < len(world.rows[table]), table


def _forged_copy(world, table: str, victim) -> dict:
    """A row of `victim`'s, as JSON, with a fresh id: what an attacker would try to insert."""
    victim_ids = {row_id for row_id, owner, _ in world.rows[table] if owner == victim.pk}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT to_jsonb(t) FROM {quoted(table)} t WHERE t.id::text = %s",
            [sorted(victim_ids)[0]],
        )
        row = json.loads(cursor.fetchone()[0])
    row["id"] = str(uuid.uuid4()) if "-" in str(row["id"]) else 2_000_000_000
    # What the BEFORE triggers would refuse first for reasons of their own.
    if table == "progress.certificate":
        row["code"] = "FAKE-CODE-0001"
    if table == "billing.order":
        row.update(status="pending", refunded_minor=0, paid_at=None, refunded_at=None)
    return row


def refused(conn, sql: str, params) -> bool:
    """Whether row-level security refuses the statement (run in a savepoint)."""
    try:
        with conn.transaction():
            conn.execute(sql, params)
    except errors.InsufficientPrivilege as error:
        return "row-level security" in str(error)
    return False


def test_forged_inserts_for_another_user_fail_on_every_table(world, app_db):
    """Anna copies one of Ben's rows under a new id: WITH CHECK refuses it."""
    as_viewer(app_db, world.viewers["anna (learner)"])
    accepted = [
        table
        for table in TABLES
        if not refused(
            app_db,
            f"INSERT INTO {quoted(table)} SELECT * FROM "
            f"jsonb_populate_record(NULL::{quoted(table)}, %s::jsonb)",
            [json.dumps(_forged_copy(world, table, world.learners["ben"]))],
        )
    ]
    assert accepted == []


def test_another_users_rows_cannot_be_updated_or_deleted(world, app_db):
    as_viewer(app_db, world.viewers["anna (learner)"])
    ben = world.learners["ben"]
    touched = {}
    for table in TABLES:
        ben_ids = [row_id for row_id, owner, _ in world.rows[table] if owner == ben.pk]
        updated = app_db.execute(
            f"UPDATE {quoted(table)} SET id = id WHERE id::text = ANY(%s)", [ben_ids]
        ).rowcount
        deleted = app_db.execute(
            f"DELETE FROM {quoted(table)} WHERE id::text = ANY(%s)", [ben_ids]
        ).rowcount
        touched[table] = (updated, deleted)
    assert touched == dict.fromkeys(TABLES, (0, 0))


OWNED_BY_COLUMN = [table for table in TABLES if table.split(".")[1] in {
    "enrollment", "activity", "order", "subscription", "memory", "memory_interaction",
    "conversation",
}]  # fmt: skip


def test_an_own_row_cannot_be_given_to_another_user(world, app_db):
    as_viewer(app_db, world.viewers["anna (learner)"])
    ben = world.learners["ben"]
    accepted = [
        table
        for table in OWNED_BY_COLUMN
        if not refused(app_db, f"UPDATE {quoted(table)} SET user_id = %s", [ben.pk])
    ]
    assert len(OWNED_BY_COLUMN) == 7
    assert accepted == []


def test_a_learner_can_still_write_their_own_rows(world, app_db):
    anna = world.viewers["anna (learner)"]
    as_viewer(app_db, anna)
    assert app_db.execute(
        'UPDATE "progress"."enrollment" SET last_accessed_at = now()'
    ).rowcount == len(world.expected(anna, "progress.enrollment"))
    app_db.execute(
        'INSERT INTO "progress"."activity" (user_id, activity_type, resource_type, data, '
        "session_id, user_agent, created_at) VALUES (%s, 'test', 'test', '{}', '', '', now())",
        [anna.user_id],
    )


def test_partitions_named_directly_show_the_app_role_nothing(world, app_db):
    as_viewer(app_db, world.viewers["system"])
    partitions = [
        row[0]
        for row in app_db.execute(
            "SELECT inhrelid::regclass::text FROM pg_inherits "
            'WHERE inhparent = \'"progress"."activity"\'::regclass'
        )
    ]
    assert partitions
    assert visible_ids(app_db, "progress.activity")  # through the parent: every row
    for partition in partitions:
        assert app_db.execute(f"SELECT count(*) FROM {partition}").fetchone() == (0,), partition
    app_db.rollback()  # creating a partition locks the parent against our open transaction
    # A partition created later gets the same (lyceum_ensure_monthly_partitions, core 0012).
    # DDL outlives the test's flush: drop what this test adds.
    parent = '\'"progress"."activity"\'::regclass'
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = {parent}"
        )
        before = {row[0] for row in cursor.fetchall()}
        cursor.execute(f"SELECT public.lyceum_ensure_monthly_partitions({parent}, 12, 0)")
        cursor.execute(
            "SELECT i.inhrelid::regclass::text, c.relrowsecurity FROM pg_inherits i "
            f"JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = {parent}"
        )
        added = {name: secured for name, secured in cursor.fetchall() if name not in before}
        for name in added:
            cursor.execute(f"DROP TABLE {name}")
    assert added and all(added.values()), added


def test_certificates_are_verified_publicly_through_the_narrow_function(world, app_db):
    as_viewer(app_db, None)
    assert visible_ids(app_db, "progress.certificate") == set()
    code = Enrollment.objects.get(user=world.learners["anna"]).certificate.code
    row = app_db.execute(
        "SELECT code, learner_name, course_title FROM progress.certificate_verify(%s)",
        [f"  {code.lower()} "],
    ).fetchone()
    assert row[0] == code
    assert app_db.execute(
        "SELECT count(*) FROM progress.certificate_verify('NOPE-NOPE-NOPE')"
    ).fetchone() == (0,)


def test_capacity_counts_every_seat_though_the_learner_sees_only_their_own(transactional_db):
    course = published(CourseFactory(max_enrollments=1))
    LessonFactory(module=ModuleFactory(course=course))
    first, second = UserFactory(), UserFactory()
    Enrollment.objects.create(user=first, course=course, status="active")
    conn = database_connect()
    try:
        conn.execute(
            "SELECT set_config('app.context', 'request', true), "
            "set_config('app.current_user_id', %s, true)",
            [str(second.pk)],
        )
        assert conn.execute('SELECT count(*) FROM "progress"."enrollment"').fetchone() == (0,)
        with pytest.raises(errors.CheckViolation, match="is full"):
            conn.execute(
                'INSERT INTO "progress"."enrollment" (id, user_id, course_id, enrollment_type, '
                "status, progress_percent, completed_lessons, total_lessons, "
                "study_time_seconds, certificate_issued, assignments_completed, achievements, "
                "run, created_at, updated_at) VALUES (gen_random_uuid(), %s, %s, 'free', "
                "'active', 0, 0, 1, 0, false, 0, '[]', 1, now(), now())",
                [second.pk, course.pk],
            )
    finally:
        conn.rollback()
        conn.close()
