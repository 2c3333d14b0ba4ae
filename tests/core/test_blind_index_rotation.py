"""Blind-index key rotation (ADR 0016): indexes name their key, search works during a rotation,
the command recomputes in resumable batches and records the run."""

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from apps.accounts import selectors
from apps.accounts.models import User
from apps.audit.models import DomainEvent
from apps.core import crypto, encryption
from apps.core.encryption import blind_index_columns, blind_index_key_usage
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

OLD = "bi1:QqvFNxjHxvIdreeju_87fKFgdeERxq6whaQDR0lf4mU="
NEW = "bi2:7vYp0cWm3kq9b2LrVnX4sT8uE1aZ6dH5fJ0gK2iM9oQ="


def _raw(pk, *columns):
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT {", ".join(columns)} FROM "accounts"."user" WHERE id = %s', [pk])
        return cursor.fetchone()


def _phones(n):
    return [f"+1415555{i:04d}" for i in range(n)]


def test_an_index_names_its_key_and_differs_per_key():
    with override_settings(LYCEUM_BLIND_INDEX_KEYS=[NEW, OLD]):
        current = crypto.blind_index("+14155550123", purpose="p")
        both = crypto.blind_indexes("+14155550123", purpose="p")
    assert current.startswith("bi2:") and crypto.blind_index_key_id_of(current) == "bi2"
    assert both[0] == current and both[1].startswith("bi1:")
    assert both[0].split(":")[1] != both[1].split(":")[1]


def test_a_lone_legacy_key_still_works_as_key_b0():
    with override_settings(LYCEUM_BLIND_INDEX_KEYS=[], LYCEUM_BLIND_INDEX_KEY="x" * 32):
        assert crypto.blind_index_keyring().ids == ["b0"]
        assert crypto.blind_index("v", purpose="p").startswith("b0:")


@pytest.mark.parametrize("entries", [[], ["no-separator"], ["bad id!:" + "x" * 32], [OLD, OLD]])
def test_misconfigured_blind_index_keys_are_named(entries):
    with pytest.raises(ImproperlyConfigured, match="LYCEUM_BLIND_INDEX_KEY"):
        crypto.parse_blind_index_keys(entries)


def test_a_short_secret_is_refused():
    with pytest.raises(ImproperlyConfigured, match="too short"):
        crypto.parse_blind_index_keys(["k1:short"])


def test_rotation_round_trips_with_two_keys_and_search_works_throughout(capsys):
    with override_settings(LYCEUM_BLIND_INDEX_KEYS=[OLD]):
        users = [UserFactory(phone=phone) for phone in _phones(7)]
        UserFactory(phone="")
    before = {u.pk: _raw(u.pk, "updated_at", "phone")[:2] for u in users}
    assert blind_index_key_usage()["accounts.User.phone_index"] == {"bi1": 7}

    with override_settings(LYCEUM_BLIND_INDEX_KEYS=[NEW, OLD]):
        # New key first, nothing recomputed yet: old rows are found, new writes use the new key.
        assert list(selectors.users_with_phone(phone="+14155550003")) == [users[3]]
        added = UserFactory(phone="+14155559999")
        assert _raw(added.pk, "phone_index")[0].startswith("bi2:")
        assert list(selectors.users_with_phone(phone="+14155559999")) == [added]

        # A run stopped after its first batch: half moved, every row still found.
        col = next(c for c in blind_index_columns() if c.label == "accounts.User.phone_index")
        first = encryption._stale_index_batch(col, current="bi2", after=None, size=3)
        encryption._reindex_batch(col, first)
        assert blind_index_key_usage()["accounts.User.phone_index"] == {"bi1": 4, "bi2": 4}
        for user in users:
            assert list(selectors.users_with_phone(phone=user.phone)) == [user]

        call_command("rotate_blind_index_keys", "--batch-size", "2")
        out = capsys.readouterr().out
        assert "key bi1 (old): 0 indexes, unused: may be removed" in out
        call_command("rotate_blind_index_keys")  # nothing left: idempotent

    assert blind_index_key_usage()["accounts.User.phone_index"] == {"bi2": 8}
    with override_settings(LYCEUM_BLIND_INDEX_KEYS=[NEW]):  # the old key is gone
        for user in users:
            assert list(selectors.users_with_phone(phone=user.phone)) == [user]
            assert _raw(user.pk, "updated_at", "phone")[:2] == before[user.pk]  # not an edit
        assert User.objects.get(pk=users[0].pk).phone == users[0].phone
    with override_settings(LYCEUM_BLIND_INDEX_KEYS=[OLD]):  # and the old one alone finds nothing
        assert list(selectors.users_with_phone(phone=users[0].phone)) == []

    events = DomainEvent.objects.filter(event_type="blind_index.keys_rotated").order_by("version")
    assert [e.data["rotated"]["accounts.User.phone_index"] for e in events] == [4, 0]
    assert events[0].data["key_id"] == "bi2" and events[0].data["batch_size"] == 2


def test_a_value_changed_during_the_rotation_is_not_overwritten():
    with override_settings(LYCEUM_BLIND_INDEX_KEYS=[OLD]):
        user = UserFactory(phone="+14155550001")
    with override_settings(LYCEUM_BLIND_INDEX_KEYS=[NEW, OLD]):
        col = next(c for c in blind_index_columns() if c.label == "accounts.User.phone_index")
        stale = encryption._stale_index_batch(col, current="bi2", after=None, size=10)
        user.phone = "+14155550002"  # saved meanwhile, indexed with the new key
        user.save()
        assert encryption._reindex_batch(col, stale) == (0, 1)
        assert list(selectors.users_with_phone(phone="+14155550002")) == [user]
        assert list(selectors.users_with_phone(phone="+14155550001")) == []


def test_the_rotation_leaves_no_audit_row():
    with override_settings(LYCEUM_BLIND_INDEX_KEYS=[OLD]):
        user = UserFactory(phone="+14155550001")
    with connection.cursor() as cursor:
        cursor.execute(
            'SELECT count(*) FROM "audit"."accounts_user_event" WHERE pgh_obj_id = %s', [user.pk]
        )
        (before,) = cursor.fetchone()
        with override_settings(LYCEUM_BLIND_INDEX_KEYS=[NEW, OLD]):
            call_command("rotate_blind_index_keys")
        cursor.execute(
            'SELECT count(*) FROM "audit"."accounts_user_event" WHERE pgh_obj_id = %s', [user.pk]
        )
        assert cursor.fetchone()[0] == before


def test_status_and_generate(capsys):
    call_command("rotate_blind_index_keys", "--generate", "b2027")
    entry = capsys.readouterr().out.strip()
    assert crypto.parse_blind_index_keys([entry]).current_id == "b2027"
    UserFactory(phone="+14155550001")
    call_command("rotate_blind_index_keys", "--status")
    out = capsys.readouterr().out
    assert "accounts.User.phone_index: bi1=1" in out
    assert "key bi1 (current): 1 indexes, still in use" in out


def test_the_migration_gives_old_bare_indexes_their_key_id():
    """accounts 0010 on rows indexed before key ids existed (a bare 64-hex HMAC)."""
    user = UserFactory(phone="+14155550123")
    bare = _raw(user.pk, "phone_index")[0].split(":", 1)[1]
    with connection.cursor() as cursor:
        cursor.execute(
            'UPDATE "accounts"."user" SET phone_index = %s WHERE id = %s', [bare, user.pk]
        )
    migration = importlib.import_module("apps.accounts.migrations.0010_blind_index_key_ids")
    with connection.schema_editor() as editor:
        migration.recompute_phone_indexes(apps, editor)
    assert _raw(user.pk, "phone_index")[0] == f"bi1:{bare}"
    assert list(selectors.users_with_phone(phone="+14155550123")) == [user]
