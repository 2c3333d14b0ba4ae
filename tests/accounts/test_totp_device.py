"""TOTP secrets encrypted at rest in accounts.TOTPDevice (ADR 0016), with django-otp's checks."""

import importlib
import time

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import override_settings
from django_otp import devices_for_user, match_token, user_has_device
from django_otp.models import Device
from django_otp.oath import totp

from apps.accounts import services
from apps.accounts.models import TOTPDevice
from apps.core import crypto
from apps.core.encryption import encrypted_columns, encryption_key_usage
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW = "test2:KYBbKKIu8Z9ijIpxHnxvHd0_a6JT-WIrEtW-PTNkOM0="
OLD = "test1:cUALlm9JqaayINs5-XgOK9gvgalSwU0V52vog7BO9Kc="
KEY_HEX = "4c796365756d2d74657374696e672d746f74702d"


def code(device, *, drift=0) -> str:
    """The code the phone shows now, or `drift` time steps away."""
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift)
    return f"{value:0{device.digits}d}"


def stored_key(device) -> str:
    with connection.cursor() as cursor:
        cursor.execute('SELECT key FROM "accounts"."totp_device" WHERE id = %s', [device.pk])
        return cursor.fetchone()[0]


@pytest.fixture
def device():
    return TOTPDevice.objects.create(user=UserFactory(), name="phone", key=KEY_HEX)


def test_the_secret_is_ciphertext_in_the_table_and_plaintext_in_python(device):
    stored = stored_key(device)
    assert stored.startswith("enc1:test2:")
    assert KEY_HEX not in stored and KEY_HEX[:16] not in stored
    assert TOTPDevice.objects.get(pk=device.pk).key == KEY_HEX


def test_a_new_device_gets_a_random_secret_that_is_sealed_too():
    made = services.two_factor_begin(user=UserFactory())
    assert len(made.key) == 40
    assert crypto.decrypt(stored_key(made)) == made.key


def test_plaintext_written_through_sql_is_refused(device):
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            'UPDATE "accounts"."totp_device" SET key = %s WHERE id = %s', [KEY_HEX, device.pk]
        )


def test_a_current_code_verifies_and_the_same_code_is_refused_the_second_time(device):
    step_before = int(time.time()) // 30
    token = code(device)
    assert device.verify_token(token) is True
    fresh = TOTPDevice.objects.get(pk=device.pk)
    assert step_before <= fresh.last_t <= int(time.time()) // 30
    assert fresh.last_used_at is not None
    assert fresh.verify_token(token) is False  # replay of a used time step
    assert crypto.is_envelope(stored_key(device))  # the save after a match sealed it again


def test_clock_drift_is_tolerated_and_followed(device):
    assert device.verify_token(code(device, drift=-1)) is True  # a phone running 30 s late
    assert TOTPDevice.objects.get(pk=device.pk).drift == -1
    assert device.verify_token(code(device, drift=10)) is False  # out of tolerance


def test_wrong_codes_are_throttled(device, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 1
    assert device.verify_token("000000" if code(device) != "000000" else "111111") is False
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    # Inside the back-off window even the right code is refused.
    assert device.verify_token(code(device)) is False
    assert device.verify_is_allowed()[0] is False


def test_django_otp_finds_and_verifies_the_device(device):
    user = device.user
    assert user_has_device(user)
    assert list(devices_for_user(user)) == [device]
    assert match_token(user, code(device)) == device
    assert Device.from_persistent_id(device.persistent_id) == device
    assert device.persistent_id == f"accounts.totpdevice/{device.pk}"


def test_the_config_url_carries_the_secret_for_the_app(device):
    url = device.config_url
    assert url.startswith("otpauth://totp/Lyceum%3A")
    assert "secret=JR4WGZLVNUWXIZLTORUW4ZZNORXXI4BN" in url
    assert "issuer=Lyceum" in url


def test_django_otps_plaintext_device_model_is_not_installed():
    assert not apps.is_installed("django_otp.plugins.otp_totp")
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('public.otp_totp_totpdevice')")
        assert cursor.fetchone()[0] is None


def test_verifying_leaves_no_audit_event_but_enrolment_changes_do(device):
    def labels():
        return list(device.events.order_by("pgh_id").values_list("pgh_label", flat=True))

    assert labels() == ["insert"]
    assert device.verify_token(code(device)) is True
    assert labels() == ["insert"]
    device.confirmed = False
    device.save()
    assert labels() == ["insert", "update"]


def test_rotation_re_encrypts_the_secret_and_it_still_verifies():
    with override_settings(LYCEUM_ENCRYPTION_KEYS=[OLD]):
        device = TOTPDevice.objects.create(user=UserFactory(), name="phone", key=KEY_HEX)
    assert crypto.key_id_of(stored_key(device)) == "test1"
    assert "accounts.TOTPDevice.key" in {c.label for c in encrypted_columns()}
    with override_settings(LYCEUM_ENCRYPTION_KEYS=[NEW, OLD]):
        call_command("rotate_encryption_keys", "--batch-size", "1")
    assert encryption_key_usage()["accounts.TOTPDevice.key"] == {"test2": 1}
    with override_settings(LYCEUM_ENCRYPTION_KEYS=[NEW]):  # the old key is gone
        fresh = TOTPDevice.objects.get(pk=device.pk)
        assert fresh.key == KEY_HEX
        assert fresh.verify_token(code(fresh)) is True


def test_the_migration_moves_django_otp_devices_sealing_their_secrets():
    """accounts 0009 on a database that still has otp_totp's table: devices move, sealed, with
    their counters; the plaintext table and its migration records are gone."""
    user = UserFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE TABLE public.otp_totp_totpdevice (
                id serial PRIMARY KEY, name varchar(64) NOT NULL, confirmed boolean NOT NULL,
                key varchar(80) NOT NULL, step smallint NOT NULL, t0 bigint NOT NULL,
                digits smallint NOT NULL, tolerance smallint NOT NULL, drift smallint NOT NULL,
                last_t bigint NOT NULL, user_id uuid NOT NULL,
                throttling_failure_timestamp timestamptz NULL,
                throttling_failure_count integer NOT NULL,
                created_at timestamptz NULL, last_used_at timestamptz NULL)
            """
        )
        cursor.execute(
            """
            INSERT INTO public.otp_totp_totpdevice (name, confirmed, key, step, t0, digits,
                tolerance, drift, last_t, user_id, throttling_failure_count, created_at)
            VALUES ('Authenticator', true, %s, 30, 0, 6, 1, 1, 1234, %s, 2,
                    '2026-01-02T03:04:05Z')
            """,
            [KEY_HEX, user.pk],
        )
        cursor.execute(
            "INSERT INTO django_migrations (app, name, applied) "
            "VALUES ('otp_totp', '0001_initial', now())"
        )
    migration = importlib.import_module("apps.accounts.migrations.0009_move_totp_devices")
    with connection.schema_editor() as editor:
        migration.move_devices(apps, editor)

    moved = TOTPDevice.objects.get(user=user)
    assert (moved.key, moved.name, moved.confirmed) == (KEY_HEX, "Authenticator", True)
    assert (moved.drift, moved.last_t, moved.throttling_failure_count) == (1, 1234, 2)
    assert moved.created_at.isoformat() == "2026-01-02T03:04:05+00:00"
    assert KEY_HEX not in stored_key(moved) and crypto.is_envelope(stored_key(moved))
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('public.otp_totp_totpdevice')")
        assert cursor.fetchone()[0] is None
        cursor.execute("SELECT count(*) FROM django_migrations WHERE app = 'otp_totp'")
        assert cursor.fetchone()[0] == 0
