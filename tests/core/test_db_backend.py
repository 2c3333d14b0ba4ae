"""The schema-per-app layout: schemas exist, introspection sees schema tables, flush and
cross-schema foreign keys work."""

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from rest_framework.authtoken.models import Token

from apps.accounts.models import User
from apps.core.db.backends.postgresql.introspection import split_table_name
from tests.accounts.factories import UserFactory


def test_every_app_schema_exists(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT schema_name FROM information_schema.schemata")
        schemas = {row[0] for row in cursor.fetchall()}
    assert set(settings.APP_SCHEMAS) <= schemas


def test_user_table_lives_in_accounts_schema(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'user'"
        )
        assert [row[0] for row in cursor.fetchall()] == ["accounts"]


def test_introspection_lists_schema_tables_by_qualified_name(db):
    with connection.cursor() as cursor:
        names = connection.introspection.table_names(cursor)
    assert 'accounts"."user' in names
    assert 'audit"."accounts_user_event' in names
    assert "django_migrations" in names


def test_django_table_names_include_schema_models(db):
    names = connection.introspection.django_table_names(only_existing=True)
    assert User._meta.db_table in names


def test_constraints_of_a_schema_table_are_found_and_search_path_restored(db):
    with connection.cursor() as cursor:
        cursor.execute("SHOW search_path")
        before = cursor.fetchone()[0]
        constraints = connection.introspection.get_constraints(cursor, User._meta.db_table)
        cursor.execute("SHOW search_path")
        after = cursor.fetchone()[0]
    assert "user_email_ci_unique" in constraints
    assert "user_email_format" in constraints
    assert any(c["primary_key"] for c in constraints.values())
    assert before == after


def test_table_description_of_a_schema_table(db):
    with connection.cursor() as cursor:
        columns = {
            c.name
            for c in connection.introspection.get_table_description(cursor, User._meta.db_table)
        }
    assert {"id", "email", "username", "created_at", "updated_at"} <= columns


def test_split_table_name():
    assert split_table_name('content"."course') == ("content", "course")
    assert split_table_name("django_migrations") == (None, "django_migrations")


@pytest.mark.django_db(transaction=True)
def test_flush_empties_schema_tables_with_cross_schema_foreign_keys():
    user = UserFactory()
    Token.objects.create(user=user)  # public.authtoken_token -> accounts.user
    call_command("flush", interactive=False, verbosity=0)
    assert not User.objects.exists()
    assert not Token.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_transactional_test_sees_committed_rows_from_another_connection():
    user = UserFactory()
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"],
        port=db["PORT"],
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
    ) as other:
        row = other.execute('SELECT email FROM "accounts"."user" WHERE id = %s', [user.pk])
        assert row.fetchone() == (user.email,)


def test_cross_schema_foreign_key_is_enforced_by_the_database(db):
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT confrelid::regclass::text FROM pg_constraint
            WHERE conrelid = 'public.authtoken_token'::regclass AND contype = 'f'
            """
        )
        assert cursor.fetchone()[0] == 'accounts."user"'
        with pytest.raises(IntegrityError), transaction.atomic():
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # Django's FKs are deferred
            cursor.execute(
                "INSERT INTO authtoken_token (key, created, user_id) "
                "VALUES ('k', now(), '00000000-0000-0000-0000-000000000000')"
            )


def test_updated_at_is_kept_by_a_trigger_even_for_raw_sql(db):
    user = UserFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE \"accounts\".\"user\" SET first_name = 'Raw', updated_at = '2000-01-01' "
            "WHERE id = %s",
            [user.pk],
        )
        cursor.execute('SELECT updated_at, now() FROM "accounts"."user" WHERE id = %s', [user.pk])
        updated_at, now = cursor.fetchone()
    assert updated_at == now
