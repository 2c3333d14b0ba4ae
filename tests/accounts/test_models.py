"""Database rules of accounts, checked through SQL as well as the ORM."""

import pytest
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from apps.accounts.models import TeacherProfile, User, UserPreferences
from config.settings import base
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def run_sql(sql: str, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("email", "not-an-email"),
        ("phone", "00442079460958"),
        ("phone", "+0123"),
        ("date_of_birth", "1850-01-01"),
    ],
)
def test_check_constraints_reject_bad_values_in_sql(column, value):
    user = UserFactory()
    with pytest.raises(IntegrityError):
        run_sql(f'UPDATE "accounts"."user" SET {column} = %s WHERE id = %s', [value, user.pk])


def test_email_is_unique_in_any_case_in_sql():
    UserFactory(email="case@example.org")
    other = UserFactory()
    with pytest.raises(IntegrityError):
        run_sql(
            'UPDATE "accounts"."user" SET email = %s WHERE id = %s', ["CASE@Example.org", other.pk]
        )


def test_verified_flag_needs_a_timestamp_in_sql():
    user = UserFactory()
    with pytest.raises(IntegrityError):
        run_sql('UPDATE "accounts"."user" SET is_email_verified = true WHERE id = %s', [user.pk])


def test_a_deleted_user_must_be_inactive_in_sql():
    user = UserFactory()
    with pytest.raises(IntegrityError):
        run_sql('UPDATE "accounts"."user" SET deleted_at = now() WHERE id = %s', [user.pk])


def test_phone_is_validated_in_python():
    user = UserFactory.build(phone="+1 415 555")
    with pytest.raises(ValidationError) as error:
        user.full_clean(exclude=["password"])
    assert "phone" in error.value.message_dict


@pytest.mark.parametrize(
    "notifications",
    ['"yes"', '{"marketing": "yes"}', '{"unknown": true}', "[true]"],
)
def test_notification_shape_is_enforced_by_a_trigger(notifications):
    user = UserFactory()
    UserPreferences.objects.create(user=user)
    with pytest.raises(IntegrityError):
        run_sql(
            'UPDATE "accounts"."user_preferences" SET notifications = %s::jsonb WHERE user_id = %s',
            [notifications, user.pk],
        )


def test_valid_notifications_pass_the_trigger():
    user = UserFactory()
    UserPreferences.objects.create(user=user)
    run_sql(
        'UPDATE "accounts"."user_preferences" SET notifications = %s::jsonb WHERE user_id = %s',
        ['{"marketing": true, "course_updates": false}', user.pk],
    )
    assert UserPreferences.objects.get(user=user).notifications == {
        "marketing": True,
        "course_updates": False,
    }


def test_grade_levels_are_checked_in_sql():
    user = UserFactory()
    TeacherProfile.objects.create(user=user, grade_levels=["K", "5"])
    with pytest.raises(IntegrityError):
        run_sql(
            'UPDATE "accounts"."teacher_profile" SET grade_levels = %s WHERE user_id = %s',
            [["K", "13"], user.pk],
        )


def test_deleted_users_disappear_from_lists_but_not_from_history():
    user = UserFactory()
    user.deleted_at = user.updated_at
    user.is_active = False
    user.save()
    assert not User.objects.filter(pk=user.pk).exists()
    assert User.all_objects.filter(pk=user.pk).exists()
    with connection.cursor() as cursor:
        cursor.execute(
            'SELECT count(*) FROM "audit"."accounts_user_event" WHERE pgh_obj_id = %s', [user.pk]
        )
        assert cursor.fetchone()[0] == 2


def test_passwords_are_hashed_with_argon2_outside_tests(settings):
    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    settings.PASSWORD_HASHERS = base.PASSWORD_HASHERS  # tests use MD5 for speed
    user = UserFactory.build()
    user.password = make_password("a secret")
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password("a secret")
