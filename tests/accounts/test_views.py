"""Account pages: sign up, lockout, two-factor, links, preferences applied to pages."""

import re

import pytest
from axes.models import AccessAttempt
from django.core import mail, signing
from django_otp.oath import totp

from apps.accounts import services
from apps.accounts.models import TeacherProfile, TOTPDevice, User
from apps.accounts.tokens import email_verification_token
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def code_for(device: TOTPDevice) -> str:
    """The code an authenticator app shows for the device right now."""
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{code:06d}"


def post_login(client, email, password, **extra):
    return client.post(LOGIN, {"username": email, "password": password, **extra})


# Sign up --------------------------------------------------------------------------------------


def test_sign_up_creates_the_user_and_sends_a_verification_link(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/accounts/signup/",
            {
                "email": "New@Example.org",
                "username": "newbie",
                "first_name": "Nia",
                "password1": "a long enough passphrase",
                "password2": "a long enough passphrase",
            },
        )
    assert response.status_code == 302
    user = User.objects.get(username="newbie")
    assert user.email == "New@example.org"  # the domain part is normalised
    assert not user.is_email_verified
    assert len(mail.outbox) == 1
    assert "/accounts/verify-email/" in mail.outbox[0].body


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "TAKEN@example.org"}, "email"),
        ({"password1": "password", "password2": "password"}, "password1"),
        ({"password2": "something else entirely"}, "password2"),
        ({"username": "has space"}, "username"),
    ],
)
def test_sign_up_errors_are_shown_on_the_field_and_nothing_is_saved(client, changes, field):
    UserFactory(email="taken@example.org")
    data = {
        "email": "fresh@example.org",
        "username": "fresh",
        "password1": "a long enough passphrase",
        "password2": "a long enough passphrase",
        **changes,
    }
    response = client.post("/accounts/signup/", data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not User.all_objects.filter(username="fresh").exists()


# Lockout ---------------------------------------------------------------------------------------


def test_account_locks_after_the_failure_limit_without_telling_if_the_password_was_right(
    client, settings
):
    user = UserFactory(email="lock@example.org")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = post_login(client, user.email, "wrong password")
        assert response.status_code == 200
        assert b"do not match" in response.content
    wrong = post_login(client, user.email, "wrong password")
    right = post_login(client, user.email, DEFAULT_PASSWORD)
    for response in (wrong, right):
        assert response.status_code == 429
        assert b"This account is locked" in response.content
        assert b"do not match" not in response.content

    def without_csrf(content: bytes) -> bytes:
        return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", content)

    assert without_csrf(wrong.content) == without_csrf(right.content)
    assert "_auth_user_id" not in client.session


def test_unlock_by_an_admin_lets_the_user_in_again(client, settings):
    user = UserFactory(email="unlock@example.org")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, user.email, "wrong password")
    assert post_login(client, user.email, DEFAULT_PASSWORD).status_code == 429
    assert services.user_unlock(user=user) >= 1
    assert not AccessAttempt.objects.filter(username=user.email).exists()
    response = post_login(client, user.email, DEFAULT_PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_admin_unlock_action(verified_staff_client, client, settings):
    user = UserFactory(email="action@example.org")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, user.email, "wrong password")
    response = verified_staff_client.post(
        "/admin/accounts/user/", {"action": "unlock", "_selected_action": [str(user.pk)]}
    )
    assert response.status_code == 302
    assert post_login(client, user.email, DEFAULT_PASSWORD).status_code == 302


def test_a_deleted_user_cannot_log_in(client):
    user = UserFactory()
    services.user_soft_delete(user=user)
    response = post_login(client, user.email, DEFAULT_PASSWORD)
    assert response.status_code == 200
    assert b"do not match an active account" in response.content


# Two-factor -------------------------------------------------------------------------------------


@pytest.fixture
def no_otp_throttle(settings):
    """django-otp slows retries after a wrong code (tested below); these tests retry at once."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def test_wrong_codes_are_throttled(client, user):
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    post_login(client, user.email, DEFAULT_PASSWORD)
    client.post("/accounts/login/verify/", {"token": "123456"})
    response = client.post("/accounts/login/verify/", {"token": code_for(device)})
    assert response.status_code == 200  # even the right code waits out the delay
    assert "_auth_user_id" not in client.session


def test_too_many_wrong_codes_send_the_user_back_to_the_password(client, user, no_otp_throttle):
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    post_login(client, user.email, DEFAULT_PASSWORD)
    for _ in range(4):
        assert client.post("/accounts/login/verify/", {"token": "123456"}).status_code == 200
    response = client.post("/accounts/login/verify/", {"token": "123456"})
    assert response["Location"] == LOGIN
    assert client.get("/accounts/login/verify/")["Location"] == LOGIN


def test_enrolment_shows_a_local_qr_code_and_confirms_with_a_code(client, user, no_otp_throttle):
    client.force_login(user)
    page = client.get("/accounts/security/two-factor/")
    assert page.status_code == 200
    assert b"<svg" in page.content  # rendered here, not fetched from a QR service
    assert b'src="http' not in page.content
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    wrong = client.post("/accounts/security/two-factor/", {"token": "000000"})
    assert wrong.status_code == 200 and "token" in wrong.context["form"].errors
    right = client.post("/accounts/security/two-factor/", {"token": code_for(device)})
    assert right.status_code == 200
    assert len(right.context["codes"]) == 10
    device.refresh_from_db()
    assert device.confirmed


def test_login_with_two_factor_needs_the_code(client, user, no_otp_throttle):
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    response = post_login(client, user.email, DEFAULT_PASSWORD)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/verify/")
    assert "_auth_user_id" not in client.session  # not logged in yet
    wrong = client.post("/accounts/login/verify/", {"token": "123456"})
    assert wrong.status_code == 200 and "token" in wrong.context["form"].errors
    assert "_auth_user_id" not in client.session
    right = client.post("/accounts/login/verify/", {"token": code_for(device)})
    assert right.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_backup_code_works_once(client, user):
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    code = services.backup_codes_regenerate(user=user)[0]
    post_login(client, user.email, DEFAULT_PASSWORD)
    assert client.post("/accounts/login/verify/", {"token": code}).status_code == 302
    client.logout()
    post_login(client, user.email, DEFAULT_PASSWORD)
    assert client.post("/accounts/login/verify/", {"token": code}).status_code == 200


def test_admin_requires_two_factor_for_staff(client, staff_user):
    client.force_login(staff_user)
    response = client.get("/admin/")
    assert response.status_code == 302
    follow = client.get(response["Location"])
    assert follow.status_code == 302
    assert follow["Location"].startswith("/accounts/security/two-factor/")
    # After enrolling, the same session reaches the admin.
    client.get("/accounts/security/two-factor/")
    device = TOTPDevice.objects.get(user=staff_user)
    client.post("/accounts/security/two-factor/?next=/admin/", {"token": code_for(device)})
    assert client.get("/admin/").status_code == 200


def test_staff_with_a_device_must_confirm_a_code_each_session(client, staff_user):
    device = TOTPDevice.objects.create(user=staff_user, name="phone", confirmed=True)
    client.force_login(staff_user)
    assert client.get("/admin/").status_code == 302
    response = client.post(
        "/accounts/security/two-factor/?next=/admin/", {"token": code_for(device)}
    )
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_students_never_reach_the_admin(client, user):
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client.force_login(user)
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/login/").status_code == 403


# Links ------------------------------------------------------------------------------------------


def test_email_verification_link(client, user):
    response = client.get(f"/accounts/verify-email/{email_verification_token(user)}/")
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_email_verified and user.email_verified_at is not None


def test_a_tampered_verification_link_is_rejected(client, user):
    token = email_verification_token(user)
    response = client.get(f"/accounts/verify-email/{token[:-2]}xx/")
    assert response.status_code == 400
    assert b"not valid" in response.content
    user.refresh_from_db()
    assert not user.is_email_verified


def test_an_expired_verification_link_is_rejected(client, user, settings):
    token = email_verification_token(user)
    settings.EMAIL_VERIFICATION_MAX_AGE = -1
    response = client.get(f"/accounts/verify-email/{token}/")
    assert response.status_code == 400
    assert b"expired" in response.content


def test_a_link_for_an_old_address_is_rejected(client, user):
    token = email_verification_token(user)
    user.email = "changed@example.org"
    user.save()
    assert client.get(f"/accounts/verify-email/{token}/").status_code == 400


def test_password_reset_by_link(client, user):
    client.post("/accounts/password/reset/", {"email": user.email.upper()})
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(\S+)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "another long passphrase", "new_password2": "another long passphrase"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("another long passphrase")
    # The link is single-use: the password changed, so the token no longer validates.
    again = client.get(link, follow=True)
    assert b"not valid or has expired" in again.content


def test_an_expired_password_reset_link_is_rejected(client, user, settings):
    client.post("/accounts/password/reset/", {"email": user.email})
    link = re.search(r"http://testserver(\S+)", mail.outbox[0].body).group(1)
    settings.PASSWORD_RESET_TIMEOUT = -1
    response = client.get(link, follow=True)
    assert b"not valid or has expired" in response.content


def test_signing_salt_separates_verification_tokens_from_other_signatures(user):
    other = signing.dumps({"u": str(user.pk), "e": user.email.lower()})
    with pytest.raises(Exception, match="not valid"):
        services.email_verify(token=other)


# Preferences and profiles ----------------------------------------------------------------------


def test_preferences_are_applied_to_rendered_pages(client, user):
    client.force_login(user)
    response = client.post(
        "/accounts/profile/",
        {
            "prefs-theme": "dark",
            "prefs-language": "es",
            "prefs-timezone": "Asia/Tokyo",
            "prefs-notify_marketing": "on",
            "save_preferences": "1",
        },
    )
    assert response.status_code == 302
    page = client.get("/accounts/profile/")
    html = page.content.decode()
    assert 'data-theme="dark"' in html
    assert page["Content-Language"] == "es"
    assert re.search(r'data-testid="local-time">[^<]* JST<', html)
    # Django's own strings come out in the chosen language.
    bad = client.post("/accounts/profile/", {"profile-username": "", "save_profile": "1"})
    assert "Este campo es requerido." in bad.content.decode()


def test_invalid_timezone_is_a_field_error(client, user):
    client.force_login(user)
    response = client.post(
        "/accounts/profile/",
        {
            "prefs-theme": "light",
            "prefs-language": "en",
            "prefs-timezone": "Mars/Olympus",
            "save_preferences": "1",
        },
    )
    assert response.status_code == 200
    assert "timezone" in response.context["preferences_form"].errors


def test_theme_switch_saves_the_preference(client, user):
    client.force_login(user)
    assert client.post("/accounts/preferences/theme/", {"theme": "dark"}).json() == {
        "theme": "dark"
    }
    assert client.post("/accounts/preferences/theme/", {"theme": "pink"}).status_code == 400
    assert 'data-theme="dark"' in client.get("/").content.decode()


def test_teacher_profile_page(client, user):
    client.force_login(user)
    response = client.post(
        "/accounts/teacher/",
        {
            "school": "Hill School",
            "department": "Science",
            "subjects": "Physics, Chemistry",
            "grade_levels": ["K", "7"],
            "custom_instructions": "Metric units.",
        },
    )
    assert response.status_code == 302
    profile = TeacherProfile.objects.get(user=user)
    assert profile.subjects == ["Physics", "Chemistry"]
    assert profile.grade_levels == ["K", "7"]
    bad = client.post("/accounts/teacher/", {"grade_levels": ["13"]})
    assert bad.status_code == 200 and "grade_levels" in bad.context["form"].errors


def test_profile_phone_validation(client, user):
    client.force_login(user)
    response = client.post(
        "/accounts/profile/",
        {"profile-username": user.username, "profile-phone": "12345", "save_profile": "1"},
    )
    assert response.status_code == 200
    assert "phone" in response.context["profile_form"].errors
    user.refresh_from_db()
    assert user.phone == ""
