"""Encrypted fields at rest, blind indexes and key rotation (ADR 0016)."""

import datetime

import pytest
from django.core.exceptions import FieldError, ImproperlyConfigured, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.test import override_settings

from apps.accounts import selectors, services
from apps.accounts.models import User
from apps.assistants.models import AssistantProfile
from apps.audit.models import DomainEvent
from apps.core import crypto, encryption
from apps.core.encryption import encrypted_columns, encryption_key_usage
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW = "test2:KYBbKKIu8Z9ijIpxHnxvHd0_a6JT-WIrEtW-PTNkOM0="
OLD = "test1:cUALlm9JqaayINs5-XgOK9gvgalSwU0V52vog7BO9Kc="


def _raw(pk, *columns):
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT {", ".join(columns)} FROM "accounts"."user" WHERE id = %s', [pk])
        return cursor.fetchone()


def test_envelope_names_the_current_key_and_round_trips():
    sealed = crypto.encrypt("+14155550123")
    assert sealed.startswith("enc1:test2:")
    assert crypto.key_id_of(sealed) == "test2"
    assert crypto.decrypt(sealed) == "+14155550123"
    assert crypto.encrypt("+14155550123") != sealed  # randomised: no equality leak


def test_a_tampered_or_unknown_key_value_is_refused():
    sealed = crypto.encrypt("secret")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(sealed[:-4] + "AAAA")
    sealed_by_old = crypto.parse_keys([OLD]).fernets["test1"].encrypt(b"x").decode()
    with (
        override_settings(LYCEUM_ENCRYPTION_KEYS=[NEW]),
        pytest.raises(crypto.DecryptionError, match="test1"),
    ):
        crypto.decrypt("enc1:test1:" + sealed_by_old)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt("+14155550123")


@pytest.mark.parametrize(
    "entries",
    [[], ["no-separator"], ["bad id!:" + NEW.split(":")[1]], ["k1:not-a-key"], [NEW, NEW]],
)
def test_misconfigured_keys_are_named(entries):
    with pytest.raises(ImproperlyConfigured):
        crypto.parse_keys(entries)


def test_user_phone_and_birth_date_are_ciphertext_in_the_table_and_plain_in_python():
    user = UserFactory(phone="+14155550123", date_of_birth=datetime.date(2001, 2, 3))
    phone, index, born = _raw(user.pk, "phone", "phone_index", "date_of_birth")
    assert phone.startswith("enc1:test2:") and "4155550123" not in phone
    assert born.startswith("enc1:test2:") and "2001" not in born
    assert index.startswith("bi1:") and len(index) == 68 and "4155550123" not in index
    fresh = User.objects.get(pk=user.pk)
    assert (fresh.phone, fresh.date_of_birth) == ("+14155550123", datetime.date(2001, 2, 3))


def test_blank_values_stay_blank_and_validation_still_runs_in_python():
    user = UserFactory(phone="", date_of_birth=None)
    assert _raw(user.pk, "phone", "phone_index", "date_of_birth") == ("", "", None)
    user.date_of_birth = datetime.date(1850, 1, 1)
    user.phone = "555-0123"
    with pytest.raises(ValidationError) as error:
        user.full_clean(exclude=["password"])
    assert {"phone", "date_of_birth"} <= set(error.value.message_dict)


def test_plaintext_written_through_sql_is_refused_by_the_database():
    user = UserFactory()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """UPDATE "accounts"."user" SET phone = '+14155550123' WHERE id = %s""", [user.pk]
        )


def test_serialised_values_are_envelopes_that_load_back_to_plaintext():
    user = UserFactory(phone="+14155550123", date_of_birth=datetime.date(2001, 2, 3))
    for name, plain in (("phone", "+14155550123"), ("date_of_birth", datetime.date(2001, 2, 3))):
        field = User._meta.get_field(name)
        dumped = field.value_to_string(user)
        assert crypto.is_envelope(dumped)
        assert field.to_python(dumped) == plain
        assert crypto.decrypt(field.get_prep_value(dumped)) == field.serialize_plain(plain)


def test_encrypted_fields_cannot_be_compared_in_sql():
    with pytest.raises(FieldError, match="blind index"):
        list(User.objects.filter(phone="+14155550123"))


def test_phone_is_searchable_through_its_blind_index_only():
    alice = UserFactory(phone="+14155550123")
    UserFactory(phone="+14155550124")
    assert list(selectors.users_with_phone(phone="+14155550123")) == [alice]
    assert list(selectors.users_with_phone(phone="")) == []


def test_profile_change_of_sensitive_fields_is_a_domain_event_without_values():
    user = UserFactory()
    services.user_update_profile(user=user, phone="+14155550123", first_name="Zoe")
    events = DomainEvent.objects.filter(
        aggregate_id=user.pk, event_type="user.sensitive_data_changed"
    )
    assert [e.data for e in events] == [{"fields": ["phone"]}]
    services.user_update_profile(user=user, phone="+14155550123")
    assert events.count() == 1


def test_assistant_provider_key_is_encrypted_and_reaches_the_provider_settings():
    profile = AssistantProfile.objects.create(
        name="Keyed", model_version="m", provider="openai", api_key="sk-live-123"
    )
    with connection.cursor() as cursor:
        cursor.execute('SELECT api_key FROM "assistants"."profile" WHERE id = %s', [profile.pk])
        (stored,) = cursor.fetchone()
    assert stored.startswith("enc1:") and "sk-live" not in stored
    assert AssistantProfile.objects.get(pk=profile.pk).api_key == "sk-live-123"


def test_every_encrypted_column_is_known_to_rotation():
    labels = {c.label for c in encrypted_columns()}
    assert {
        "accounts.User.phone",
        "accounts.User.date_of_birth",
        "assistants.AssistantProfile.api_key",
    } <= labels


def test_rotation_round_trips_from_the_old_key_to_the_new_one(capsys):
    """Encrypt with the old key, rotate, every row names the new key, values are unchanged and
    the old key can be removed."""
    with override_settings(LYCEUM_ENCRYPTION_KEYS=[OLD]):
        users = [
            UserFactory(phone=f"+1415555{n:04d}", date_of_birth=datetime.date(2000, 1, n + 1))
            for n in range(7)
        ]
        UserFactory(phone="", date_of_birth=None)
        profile = AssistantProfile.objects.create(name="Old", model_version="m", api_key="sk-1")
    before_updated = {u.pk: _raw(u.pk, "updated_at")[0] for u in users}
    assert encryption_key_usage()["accounts.User.phone"]["test1"] == 7

    with override_settings(LYCEUM_ENCRYPTION_KEYS=[NEW, OLD]):
        call_command("rotate_encryption_keys", "--batch-size", "3")
        out = capsys.readouterr().out
        assert "key test1 (old): 0 values, unused: may be removed" in out
        # A second run finds nothing left: the command is resumable and idempotent.
        call_command("rotate_encryption_keys", "--batch-size", "3")

    usage = encryption_key_usage()
    for label in (
        "accounts.User.phone",
        "accounts.User.date_of_birth",
        "assistants.AssistantProfile.api_key",
    ):
        assert "test1" not in usage[label], usage
    for user in users:
        phone, born = _raw(user.pk, "phone", "date_of_birth")
        assert crypto.key_id_of(phone) == crypto.key_id_of(born) == "test2"

    with override_settings(LYCEUM_ENCRYPTION_KEYS=[NEW]):  # the old key is gone
        for n, user in enumerate(users):
            fresh = User.objects.get(pk=user.pk)
            assert fresh.phone == f"+1415555{n:04d}"
            assert fresh.date_of_birth == datetime.date(2000, 1, n + 1)
            assert _raw(user.pk, "updated_at")[0] == before_updated[user.pk]
        assert AssistantProfile.objects.get(pk=profile.pk).api_key == "sk-1"
        assert list(selectors.users_with_phone(phone="+14155550003")) == [users[3]]

    events = DomainEvent.objects.filter(event_type="encryption.keys_rotated").order_by("version")
    assert [e.data["rotated"]["accounts.User.phone"] for e in events] == [7, 0]
    assert events[0].data["key_id"] == "test2"


def test_rotation_resumes_after_an_interrupted_run():
    with override_settings(LYCEUM_ENCRYPTION_KEYS=[OLD]):
        users = [UserFactory(phone=f"+1415555{n:04d}") for n in range(5)]
    with override_settings(LYCEUM_ENCRYPTION_KEYS=[NEW, OLD]):
        # A run stopped after its first batch leaves the rest on the old key, readable.
        col = next(c for c in encrypted_columns() if c.label == "accounts.User.phone")
        first = encryption._stale_batch(col, current="test2", after=None, size=2)
        encryption._rotate_batch(col, first)
        assert encryption_key_usage()["accounts.User.phone"] == {"test1": 3, "test2": 2}
        assert {User.objects.get(pk=u.pk).phone for u in users} == {u.phone for u in users}
        call_command("rotate_encryption_keys")
    assert encryption_key_usage()["accounts.User.phone"] == {"test2": 5}


def test_rotation_stops_with_a_clear_error_when_a_key_is_missing():
    with override_settings(LYCEUM_ENCRYPTION_KEYS=[OLD]):
        UserFactory(phone="+14155550123")
    with (
        override_settings(LYCEUM_ENCRYPTION_KEYS=[NEW]),
        pytest.raises(CommandError, match="test1"),
    ):
        call_command("rotate_encryption_keys")


def test_generate_prints_a_usable_key(capsys):
    call_command("rotate_encryption_keys", "--generate", "k2026")
    entry = capsys.readouterr().out.strip()
    assert crypto.parse_keys([entry]).current_id == "k2026"
