"""The database enforces the rbac rules on its own: raw SQL cannot break them."""

import uuid
from datetime import timedelta

import pytest
from django.db import DataError, IntegrityError, InternalError, connection, transaction
from django.db.utils import ProgrammingError
from django.utils import timezone

from apps.rbac.models import Role
from tests.accounts.factories import UserFactory
from tests.rbac.factories import RoleFactory

pytestmark = pytest.mark.django_db

DB_ERRORS = (IntegrityError, InternalError, DataError, ProgrammingError)


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


def refused(statement, params=(), match=None):
    with pytest.raises(DB_ERRORS, match=match), transaction.atomic():
        sql(statement, params)


def insert_role(name, parent_id=None, level=10, is_system=False):
    role_id = uuid.uuid4()
    sql(
        'INSERT INTO "rbac"."role" (id, created_at, updated_at, name, display_name, description,'
        " parent_id, level, is_system) VALUES (%s, now(), now(), %s, %s, '', %s, %s, %s)",
        [role_id, name, name, parent_id, level, is_system],
    )
    return role_id


def test_role_cycle_is_refused_by_the_trigger():
    a = insert_role("a_role")
    b = insert_role("b_role", parent_id=a)
    c = insert_role("c_role", parent_id=b)
    refused('UPDATE "rbac"."role" SET parent_id = %s WHERE id = %s', [c, a], "hierarchy cycle")
    refused('UPDATE "rbac"."role" SET parent_id = %s WHERE id = %s', [a, a])
    assert sql('SELECT parent_id FROM "rbac"."role" WHERE id = %s', [a]) == [(None,)]
    # a legal move still works
    sql('UPDATE "rbac"."role" SET parent_id = NULL WHERE id = %s', [c])


def test_role_checks():
    for name, level, constraint in [
        ("Bad Name", 1, "role_name_format"),
        ("ok_name", 101, "role_level_range"),
    ]:
        with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
            insert_role(name, level=level)


def test_system_roles_cannot_be_deleted_renamed_or_demoted(builtin_roles):
    student = builtin_roles["student"].pk
    refused('DELETE FROM "rbac"."role" WHERE id = %s', [student], "system role")
    refused('UPDATE "rbac"."role" SET is_system = false WHERE id = %s', [student], "system role")
    refused('UPDATE "rbac"."role" SET name = %s WHERE id = %s', ["pupil", student], "system role")
    sql('UPDATE "rbac"."role" SET description = %s WHERE id = %s', ["Learns.", student])
    custom = RoleFactory()
    sql('DELETE FROM "rbac"."role" WHERE id = %s', [custom.pk])
    assert not Role.objects.filter(pk=custom.pk).exists()


def test_permission_format_checks():
    insert = (
        'INSERT INTO "rbac"."permission" (id, created_at, updated_at, name, resource, action,'
        " description) VALUES (gen_random_uuid(), now(), now(), %s, %s, %s, '')"
    )
    refused(insert, ["Course.edit", "Course", "edit"], "permission_resource_format")
    refused(insert, ["course.Edit!", "course", "Edit!"], "permission_action_format")
    refused(insert, ["course.other", "course", "zap"], "permission_name_is_resource_dot_action")
    sql(insert, ["widget.zap", "widget", "zap"])


GRANT_INSERT = (
    'INSERT INTO "rbac"."role_grant" (id, created_at, updated_at, user_id, role_id, scope_type,'
    " scope_id, valid_from, expires_at, revoked_at) VALUES (gen_random_uuid(), now(), now(),"
    " %s, %s, %s, %s, %s, %s, %s)"
)


def test_grant_checks():
    user, role, now = UserFactory(), RoleFactory(), timezone.now()
    course = uuid.uuid4()
    refused(GRANT_INSERT, [user.pk, role.pk, "global", course, now, None, None], "global_iff")
    refused(GRANT_INSERT, [user.pk, role.pk, "course", None, now, None, None], "global_iff")
    refused(GRANT_INSERT, [user.pk, role.pk, "planet", course, now, None, None], "scope_type")
    refused(
        GRANT_INSERT,
        [user.pk, role.pk, "global", None, now, now - timedelta(days=1), None],
        "expires_after_start",
    )


def test_overlapping_live_grants_are_refused():
    user, role, now = UserFactory(), RoleFactory(), timezone.now()
    course = uuid.uuid4()
    day = timedelta(days=1)
    sql(GRANT_INSERT, [user.pk, role.pk, "global", None, now, now + 10 * day, None])
    refused(GRANT_INSERT, [user.pk, role.pk, "global", None, now + day, None, None], "no_overlap")
    # another scope, a later period, or a revoked grant are all fine
    sql(GRANT_INSERT, [user.pk, role.pk, "course", course, now, None, None])
    refused(GRANT_INSERT, [user.pk, role.pk, "course", course, now, None, None], "no_overlap")
    sql(GRANT_INSERT, [user.pk, role.pk, "global", None, now + 10 * day, None, None])
    sql(GRANT_INSERT, [user.pk, role.pk, "global", None, now, None, now])
