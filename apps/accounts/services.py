"""Writes owned by accounts: registration, profile, preferences, verification, lockout, 2FA."""

import hashlib
import secrets
from datetime import timedelta

from axes.utils import reset as axes_reset
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from apps.accounts.models import (
    PersonalAccessToken,
    TeacherProfile,
    TOTPDevice,
    User,
    UserPreferences,
)
from apps.accounts.tokens import email_verification_token, email_verification_user
from apps.audit.services import domain_event_record
from apps.core.api.authentication import PERSONAL_TOKEN_PREFIX
from apps.core.api.scopes import all_scopes
from apps.core.exceptions import ConflictError, DomainError, PermissionDeniedError

PROFILE_FIELDS = ("first_name", "last_name", "username", "phone", "date_of_birth")
SENSITIVE_PROFILE_FIELDS = ("phone", "date_of_birth")  # encrypted at rest (ADR 0016)
PREFERENCE_FIELDS = ("theme", "language", "timezone", "notifications")
TEACHER_FIELDS = ("school", "department", "subjects", "grade_levels", "custom_instructions")


def _email_taken(email: str) -> bool:
    return User.all_objects.filter(email__iexact=email).exists()


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str | None,
    username: str | None = None,
    first_name: str = "",
    last_name: str = "",
    is_staff: bool = False,
    is_superuser: bool = False,
) -> User:
    """Create a user with a hashed password and default preferences.

    Raises ValidationError when a field is invalid or the e-mail/username is taken (any case).
    """
    if _email_taken(email):
        raise ValidationError({"email": "A user with this e-mail address already exists."})
    user = User.objects.create_user(
        email=email,
        password=password,
        username=username or email.split("@", 1)[0],
        first_name=first_name,
        last_name=last_name,
        is_staff=is_staff,
        is_superuser=is_superuser,
    )
    UserPreferences.objects.create(user=user)
    domain_event_record(
        aggregate_type="user",
        aggregate_id=user.pk,
        event_type="user.created",
        data={"email": user.email, "is_staff": is_staff, "is_superuser": is_superuser},
    )
    return user


@transaction.atomic
def user_register(
    *,
    email: str,
    password: str,
    username: str,
    first_name: str = "",
    last_name: str = "",
    request_base_url: str,
) -> User:
    """Sign-up from the public page: create the user and e-mail a verification link."""
    user = user_create(
        email=email,
        password=password,
        username=username,
        first_name=first_name,
        last_name=last_name,
    )
    domain_event_record(
        aggregate_type="user", aggregate_id=user.pk, event_type="user.registered", actor=user
    )
    email_verification_send(user=user, base_url=request_base_url)
    return user


@transaction.atomic
def user_ensure(
    *,
    email: str,
    password: str,
    username: str,
    first_name: str = "",
    last_name: str = "",
    is_staff: bool = False,
    is_superuser: bool = False,
) -> tuple[User, bool]:
    """Create the user, or bring an existing one (same e-mail, any case) to the given state.

    Returns (user, created). Used by demo data, so running it twice changes nothing.
    """
    user = User.all_objects.select_for_update().filter(email__iexact=email).first()
    if user is None:
        user = user_create(
            email=email,
            password=password,
            username=username,
            first_name=first_name,
            last_name=last_name,
            is_staff=is_staff,
            is_superuser=is_superuser,
        )
        return user, True
    user.username = username
    user.first_name = first_name
    user.last_name = last_name
    user.is_staff = is_staff
    user.is_superuser = is_superuser
    user.is_active = True
    user.deleted_at = None
    if not user.check_password(password):
        user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    UserPreferences.objects.get_or_create(user=user)
    return user, False


@transaction.atomic
def user_update_profile(*, user: User, **changes) -> User:
    """Change the user's own profile fields (names, username, phone, date of birth).

    Raises ValidationError on invalid values; nothing is saved then.
    """
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationError(f"Not a profile field: {', '.join(sorted(unknown))}.")
    before = {field: getattr(user, field) for field in SENSITIVE_PROFILE_FIELDS}
    for field, value in changes.items():
        setattr(user, field, value)
    user.full_clean(exclude=["password"])
    user.save()
    changed = [f for f in SENSITIVE_PROFILE_FIELDS if getattr(user, f) != before[f]]
    if changed:
        # The trail leaves encrypted fields out (ADR 0016): record that they changed, not how.
        domain_event_record(
            aggregate_type="user",
            aggregate_id=user.pk,
            event_type="user.sensitive_data_changed",
            data={"fields": changed},
        )
    return user


@transaction.atomic
def user_soft_delete(*, user: User) -> User:
    """Delete an account: it cannot log in and leaves lists; its history and audit stay."""
    if user.deleted_at is None:
        user.deleted_at = timezone.now()
        user.is_active = False
        user.save(update_fields=["deleted_at", "is_active", "updated_at"])
        domain_event_record(aggregate_type="user", aggregate_id=user.pk, event_type="user.deleted")
    return user


@transaction.atomic
def user_restore(*, user: User) -> User:
    """Undo a soft delete (a deleted user's address stays reserved, so it is still free)."""
    if user.deleted_at is not None:
        user.deleted_at = None
        user.is_active = True
        user.save(update_fields=["deleted_at", "is_active", "updated_at"])
        domain_event_record(aggregate_type="user", aggregate_id=user.pk, event_type="user.restored")
    return user


@transaction.atomic
def user_log_out_everywhere(*, user: User) -> User:
    """End every session of the user (this one included) by raising their session epoch.

    API tokens are not sessions: they are revoked on their own page.
    """
    User.all_objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])
    domain_event_record(
        aggregate_type="user", aggregate_id=user.pk, event_type="user.logged_out_everywhere"
    )
    return user


def user_unlock(*, user: User) -> int:
    """Clear failed logins and any lockout of the account. Returns how many records went."""
    return axes_reset(username=user.email)


def email_verification_send(*, user: User, base_url: str) -> None:
    """E-mail the user a signed link confirming their address (sent after commit)."""
    link = base_url.rstrip("/") + reverse(
        "accounts:verify_email", args=[email_verification_token(user)]
    )
    hours = settings.EMAIL_VERIFICATION_MAX_AGE // 3600
    transaction.on_commit(
        lambda: send_mail(
            "Confirm your e-mail address for Lyceum",
            f"Hello {user.get_short_name()},\n\nConfirm your address by opening this link "
            f"within {hours} hours:\n\n{link}\n\nIf you did not sign up, ignore this message.",
            None,
            [user.email],
        )
    )


@transaction.atomic
def email_verify(*, token: str) -> User:
    """Mark the address of the token's user as verified. Raises tokens.InvalidLink."""
    user = email_verification_user(token)
    if not user.is_email_verified:
        user.is_email_verified = True
        user.email_verified_at = timezone.now()
        user.save(update_fields=["is_email_verified", "email_verified_at", "updated_at"])
        domain_event_record(
            aggregate_type="user",
            aggregate_id=user.pk,
            event_type="user.email_verified",
            data={"email": user.email},
        )
    return user


@transaction.atomic
def preferences_update(*, user: User, **changes) -> UserPreferences:
    """Change the user's preferences. Raises ValidationError on invalid values."""
    unknown = set(changes) - set(PREFERENCE_FIELDS)
    if unknown:
        raise ValidationError(f"Not a preference: {', '.join(sorted(unknown))}.")
    preferences, _ = UserPreferences.objects.select_for_update().get_or_create(user=user)
    for field, value in changes.items():
        setattr(preferences, field, value)
    preferences.full_clean()
    preferences.save()
    return preferences


@transaction.atomic
def teacher_profile_update(*, user: User, **changes) -> TeacherProfile:
    """Create or change the user's teacher profile. Raises ValidationError on invalid values."""
    unknown = set(changes) - set(TEACHER_FIELDS)
    if unknown:
        raise ValidationError(f"Not a teacher profile field: {', '.join(sorted(unknown))}.")
    profile, _ = TeacherProfile.objects.select_for_update().get_or_create(user=user)
    for field, value in changes.items():
        setattr(profile, field, value)
    profile.full_clean()
    profile.save()
    return profile


# Two-factor authentication -------------------------------------------------------------------


def two_factor_device(*, user: User) -> TOTPDevice | None:
    """The user's confirmed authenticator, if any."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


@transaction.atomic
def two_factor_begin(*, user: User) -> TOTPDevice:
    """Start enrolment: an unconfirmed TOTP device whose secret the QR code carries.

    Raises ConflictError if two-factor authentication is already on.
    """
    if two_factor_device(user=user) is not None:
        raise ConflictError("Two-factor authentication is already on.")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=False)


@transaction.atomic
def two_factor_confirm(*, user: User, token: str) -> tuple[TOTPDevice, list[str]]:
    """Finish enrolment with a code from the app; returns the device and new backup codes.

    Raises DomainError(code="wrong_code") when the code does not match.
    """
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None:
        raise DomainError("Start two-factor set-up first.", code="not_started")
    if not device.verify_token(token):
        raise DomainError(
            "That code is not right. Check the time on your phone and try again.",
            code="wrong_code",
            fields={"token": ["Wrong code."]},
        )
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return device, backup_codes_regenerate(user=user)


@transaction.atomic
def backup_codes_regenerate(*, user: User) -> list[str]:
    """Replace the user's single-use backup codes; returns the new codes (shown once)."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name="Backup codes", defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [secrets.token_hex(4) for _ in range(settings.BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def two_factor_disable(*, user: User) -> None:
    """Turn two-factor authentication off: remove the authenticator and the backup codes."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


@transaction.atomic
def two_factor_install(*, user: User, key_hex: str, backup_codes: tuple[str, ...]) -> TOTPDevice:
    """Give the user a confirmed authenticator with a known key and the given backup codes,
    replacing any they had. For provisioning (demo data), never for users' own enrolment."""
    two_factor_disable(user=user)
    device = TOTPDevice.objects.create(user=user, name="Authenticator", key=key_hex, confirmed=True)
    static = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    StaticToken.objects.bulk_create(StaticToken(device=static, token=code) for code in backup_codes)
    return device


def personal_access_token_hash(plaintext: str) -> str:
    """The fingerprint stored for a personal access token. SHA-256 without a key: the token is
    256 random bits, so it cannot be guessed from the hash, and rotating SECRET_KEY keeps it."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


@transaction.atomic
def personal_access_token_create(
    *,
    user: User,
    name: str,
    scopes: list[str],
    expires_in_days: int | None = None,
    allowed_scopes: set[str] | None = None,
) -> tuple[PersonalAccessToken, str]:
    """Make a token for the user's scripts; returns it with its plaintext, shown only now.

    `allowed_scopes` bounds the scopes (a token creating a token cannot widen its own).
    Raises DomainError for unknown or disallowed scopes, or a lifetime out of bounds."""
    known = set(all_scopes())
    wanted = sorted(set(scopes))
    unknown = [scope for scope in wanted if scope not in known]
    if not wanted or unknown:
        raise DomainError(
            "Choose at least one scope, from the API's scopes.",
            fields={"scopes": [f"Unknown scope {scope!r}." for scope in unknown] or ["Required."]},
        )
    if allowed_scopes is not None and not set(wanted) <= allowed_scopes:
        raise PermissionDeniedError(
            "A token can only create tokens with scopes it holds itself.",
            code="insufficient_scope",
            fields={"scopes": sorted(set(wanted) - allowed_scopes)},
        )
    days = expires_in_days or settings.PERSONAL_ACCESS_TOKEN_DEFAULT_DAYS
    if not 1 <= days <= settings.PERSONAL_ACCESS_TOKEN_MAX_DAYS:
        raise DomainError(
            f"A token lives 1 to {settings.PERSONAL_ACCESS_TOKEN_MAX_DAYS} days.",
            fields={"expires_in_days": ["Out of range."]},
        )
    plaintext = PERSONAL_TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    token = PersonalAccessToken.objects.create(
        user=user,
        name=name.strip() or "token",
        prefix=plaintext[: len(PERSONAL_TOKEN_PREFIX) + 6],
        token_hash=personal_access_token_hash(plaintext),
        scopes=wanted,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    return token, plaintext


@transaction.atomic
def personal_access_token_revoke(*, token: PersonalAccessToken) -> PersonalAccessToken:
    """Revoke the token now (idempotent: an already revoked token keeps its time)."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def personal_access_token_touch(*, token: PersonalAccessToken) -> None:
    """Note that the token was used, at most once a minute (a write per call would be waste)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        PersonalAccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


@transaction.atomic
def personal_access_token_install(
    *, user: User, name: str, plaintext: str, scopes: list[str], days: int
) -> PersonalAccessToken:
    """Give the user a token with a known value, valid `days` from now, replacing one of the same
    name. For provisioning (demo data), never for users' own tokens."""
    if not plaintext.startswith(PERSONAL_TOKEN_PREFIX):
        raise DomainError(f"A personal access token starts with {PERSONAL_TOKEN_PREFIX}.")
    PersonalAccessToken.objects.filter(user=user, name=name).delete()
    now = timezone.now()
    return PersonalAccessToken.objects.create(
        user=user,
        name=name,
        prefix=plaintext[: len(PERSONAL_TOKEN_PREFIX) + 6],
        token_hash=personal_access_token_hash(plaintext),
        scopes=sorted(scopes),
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
