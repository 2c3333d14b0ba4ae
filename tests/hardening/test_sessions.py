"""Session security: a new key at login, every session ends on a password change, and "log out
everywhere" ends them all (ADR 0016)."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp

from apps.accounts.models import TOTPDevice
from apps.audit.models import DomainEvent
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
SECURITY = reverse("accounts:security")


def _log_in(client: Client, user) -> None:
    response = client.post(LOGIN, {"username": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302, response.content


def _is_logged_in(client: Client) -> bool:
    return client.get(SECURITY).status_code == 200


def test_logging_in_gives_a_new_session_key():
    user = UserFactory()
    client = Client()
    session = client.session  # an anonymous session exists before the login
    session["probe"] = 1
    session.save()
    before = client.cookies["sessionid"].value
    _log_in(client, user)
    after = client.cookies["sessionid"].value
    assert after != before
    assert _is_logged_in(client)


def test_changing_the_password_ends_every_other_session_and_keeps_this_one():
    user = UserFactory()
    laptop, phone = Client(), Client()
    _log_in(laptop, user)
    _log_in(phone, user)
    response = laptop.post(
        reverse("accounts:password_change"),
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "a different long passphrase",
            "new_password2": "a different long passphrase",
        },
    )
    assert response.status_code == 302
    assert _is_logged_in(laptop)
    assert not _is_logged_in(phone)


def test_log_out_everywhere_ends_every_session_of_the_user_only():
    user, other = UserFactory(), UserFactory()
    laptop, phone, someone_else = Client(), Client(), Client()
    _log_in(laptop, user)
    _log_in(phone, user)
    _log_in(someone_else, other)
    page = laptop.get(SECURITY)
    assert b"Log out everywhere" in page.content

    response = laptop.post(reverse("accounts:log_out_everywhere"))

    assert response.status_code == 302 and response["Location"] == LOGIN
    assert not _is_logged_in(laptop)
    assert not _is_logged_in(phone)
    assert _is_logged_in(someone_else)
    assert DomainEvent.objects.filter(
        aggregate_id=user.pk, event_type="user.logged_out_everywhere"
    ).exists()
    # The password still works: a new login starts a fresh, valid session.
    _log_in(phone, user)
    assert _is_logged_in(phone)


def test_log_out_everywhere_needs_a_post(client, user):
    client.force_login(user)
    assert client.get(reverse("accounts:log_out_everywhere")).status_code == 405
    assert _is_logged_in(client)


def test_logging_in_with_a_second_factor_gives_a_new_session_key_at_the_code_step(settings):
    """The password step keeps the session anonymous (only a pending marker); the session key
    changes when the code completes the login, so a key planted before it is worthless."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    user = UserFactory()
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client = Client()
    session = client.session
    session["probe"] = 1
    session.save()
    before = client.cookies["sessionid"].value
    response = client.post(LOGIN, {"username": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302 and "verify" in response["Location"]
    assert not _is_logged_in(client)
    token = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    response = client.post(reverse("accounts:login_verify"), {"token": f"{token:06d}"})
    assert response.status_code == 302
    assert client.cookies["sessionid"].value != before
    assert _is_logged_in(client)


def test_a_password_reset_through_the_e_mailed_link_ends_every_session(mailoutbox):
    user = UserFactory()
    laptop, attacker = Client(), Client()
    _log_in(laptop, user)
    _log_in(attacker, user)
    Client().post(reverse("accounts:password_reset"), {"email": user.email})
    (link,) = re.findall(r"https?://\S+/password/reset/\S+/\S+/", mailoutbox[-1].body)
    owner = Client()
    set_password_url = owner.get(link)["Location"]
    response = owner.post(
        set_password_url,
        {"new_password1": "a brand new passphrase", "new_password2": "a brand new passphrase"},
    )
    assert response.status_code == 302
    assert not _is_logged_in(laptop)
    assert not _is_logged_in(attacker)
