"""Users (UUID primary key, e-mail login, soft delete), their preferences and teacher profiles."""

import datetime
import time
from base64 import b32encode
from binascii import unhexlify
from urllib.parse import quote, urlencode

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP
from django_otp.util import hex_validator, random_hex

from apps.accounts.managers import AllUsersManager, UserManager
from apps.accounts.validators import (
    DEFAULT_NOTIFICATIONS,
    GRADE_LEVELS,
    NOTIFICATION_KEYS,
    validate_e164_phone,
    validate_grade_levels,
    validate_notifications,
    validate_timezone,
)
from apps.core.fields import BlindIndexField, EncryptedCharField, EncryptedDateField
from apps.core.models import TimeStampedModel, UUIDModel


@pghistory.track(
    # Secrets, encrypted personal data and login bookkeeping never enter the audit trail; a
    # change of the encrypted fields is a domain event naming the fields (accounts.services).
    exclude=["password", "last_login", "session_epoch", "phone", "phone_index", "date_of_birth"],
    meta={"db_table": 'audit"."accounts_user_event'},
)
class User(UUIDModel, TimeStampedModel, AbstractBaseUser, PermissionsMixin):
    email = models.EmailField("e-mail address", max_length=254, unique=True)
    username = models.CharField(
        max_length=150,
        unique=True,
        validators=[UnicodeUsernameValidator()],
        help_text="150 characters or fewer: letters, digits and @/./+/-/_ only.",
    )
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    # Encrypted at rest (ADR 0016); the column holds "enc1:<key id>:<token>", so the E.164 and
    # date-range rules are checked in Python only. Find a user by phone through phone_index.
    phone = EncryptedCharField(
        plain_max_length=16,
        blank=True,
        default="",
        db_default="",
        validators=[validate_e164_phone],
        help_text="International (E.164) form, e.g. +14155550123.",
    )
    # db_default: a row written by SQL without a phone (imports, tests) needs no index value.
    phone_index = BlindIndexField(source="phone", purpose="accounts.user.phone", db_default="")
    date_of_birth = EncryptedDateField(
        null=True, blank=True, validators=[MinValueValidator(datetime.date(1900, 1, 1))]
    )
    # Not `is_verified`: django-otp puts an is_verified() method on request.user.
    is_email_verified = models.BooleanField(
        default=False, db_default=False, help_text="The e-mail address was confirmed."
    )
    email_verified_at = models.DateTimeField(null=True, blank=True)
    phone_verified_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(
        null=True,
        blank=True,
        db_index=True,
        help_text="Set when the account is deleted; it can no longer log in and is hidden.",
    )
    is_staff = models.BooleanField(
        default=False, help_text="Designates whether the user can log into the admin site."
    )
    # Raised by "log out everywhere": part of the session hash, so every session ends at once.
    session_epoch = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()  # hides deleted users: login and lists never see them
    all_objects = AllUsersManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["username"]

    class Meta(TimeStampedModel.Meta):
        db_table = 'accounts"."user'
        verbose_name = "user"
        verbose_name_plural = "users"
        # Unique checks, admin and sessions see deleted users too; login and lists use `objects`.
        default_manager_name = "all_objects"
        # Rosters and gradebooks list learners by name (progress.selectors): with this index a
        # course's first page walks users in name order and probes their enrollment, instead of
        # sorting every learner of a large course (docs/performance.md).
        indexes = [
            models.Index(fields=["last_name", "first_name", "email"], name="user_name_order"),
        ]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(email__regex=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
                name="user_email_format",
            ),
            models.CheckConstraint(
                condition=models.Q(phone__sealed=True),
                name="user_phone_encrypted",
            ),
            models.CheckConstraint(
                condition=models.Q(is_email_verified=False)
                | models.Q(email_verified_at__isnull=False),
                name="user_verified_has_timestamp",
            ),
            models.CheckConstraint(
                condition=models.Q(date_of_birth__sealed=True),
                name="user_date_of_birth_encrypted",
            ),
            models.CheckConstraint(
                condition=models.Q(deleted_at__isnull=True) | models.Q(is_active=False),
                name="user_deleted_is_inactive",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).strip()

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def _get_session_auth_hash(self, secret=None) -> str:
        # Django's hash of the password, plus the epoch once the user logged out everywhere
        # (epoch 0 gives Django's own hash: sessions from before this field stay valid).
        material = (
            self.password if not self.session_epoch else f"{self.password}|{self.session_epoch}"
        )
        return salted_hmac(
            "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash",
            material,
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email

    def get_short_name(self) -> str:
        return self.first_name or self.email


THEMES = [("light", "Light"), ("dark", "Dark")]


@pghistory.track(meta={"db_table": 'audit"."accounts_preferences_event'})
class UserPreferences(TimeStampedModel):
    """How the pages look and speak to one user."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, primary_key=True, related_name="preferences"
    )
    theme = models.CharField(max_length=8, choices=THEMES, default="light")
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    notifications = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_notifications],
        help_text="Keys: " + ", ".join(NOTIFICATION_KEYS) + "; values true or false.",
    )

    class Meta(TimeStampedModel.Meta):
        db_table = 'accounts"."user_preferences'
        verbose_name_plural = "user preferences"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(theme__in=[t for t, _ in THEMES]), name="preferences_theme"
            ),
            models.CheckConstraint(
                condition=models.Q(language__in=[code for code, _ in settings.LANGUAGES]),
                name="preferences_language",
            ),
        ]
        triggers = [
            *TimeStampedModel.Meta.triggers,
            pgtrigger.Trigger(
                name="validate_notifications",
                operation=pgtrigger.Insert | pgtrigger.Update,
                when=pgtrigger.Before,
                func="""
                IF jsonb_typeof(NEW.notifications) <> 'object'
                   OR (NEW.notifications - %s::text[]) <> '{}'::jsonb
                   OR jsonb_path_exists(NEW.notifications, '$.* ? (@.type() != "boolean")') THEN
                    RAISE EXCEPTION 'notifications must be an object of known boolean settings'
                        USING ERRCODE = 'check_violation';
                END IF;
                RETURN NEW;
                """
                % ("'{" + ",".join(NOTIFICATION_KEYS) + "}'"),
            ),
        ]

    def __str__(self) -> str:
        return f"Preferences of {self.user}"

    @property
    def effective_notifications(self) -> dict[str, bool]:
        return {**DEFAULT_NOTIFICATIONS, **self.notifications}


@pghistory.track(meta={"db_table": 'audit"."accounts_teacher_profile_event'})
class TeacherProfile(TimeStampedModel):
    """What a teacher tells Lyceum about their teaching."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, primary_key=True, related_name="teacher_profile"
    )
    school = models.CharField(max_length=200, blank=True)
    department = models.CharField(max_length=200, blank=True)
    subjects = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    grade_levels = ArrayField(
        models.CharField(max_length=2),
        default=list,
        blank=True,
        validators=[validate_grade_levels],
        help_text="K and 1-12.",
    )
    custom_instructions = models.TextField(
        blank=True, help_text="How assistants should help you (tone, curriculum, constraints)."
    )

    class Meta(TimeStampedModel.Meta):
        db_table = 'accounts"."teacher_profile'
        constraints = [
            models.CheckConstraint(
                condition=models.Q(grade_levels__contained_by=list(GRADE_LEVELS)),
                name="teacher_profile_grade_levels",
            ),
        ]

    def __str__(self) -> str:
        return f"Teacher profile of {self.user}"


@pghistory.track(
    # The hash is a secret's fingerprint and use stamps are bookkeeping: neither is audited.
    exclude=["token_hash", "last_used_at"],
    meta={"db_table": 'audit"."accounts_personal_access_token_event'},
)
class PersonalAccessToken(UUIDModel):
    """A scoped, expiring token a user makes for their scripts (ADR 0018). Only a SHA-256 of
    the token is stored; its first characters (`prefix`) identify it in lists and logs."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="personal_access_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    scopes = ArrayField(models.CharField(max_length=64), default=list)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = 'accounts"."personal_access_token'
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="personal_access_token_expires_after_creation",
            ),
            models.CheckConstraint(
                condition=models.Q(token_hash__regex=r"^[0-9a-f]{64}$"),  # noqa: S106
                name="personal_access_token_hash_is_sha256",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def scope(self) -> str:
        """Space-separated, as on OAuth access tokens (apps.core.api.scopes.token_scopes)."""
        return " ".join(self.scopes)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


def default_totp_key() -> str:
    """A new TOTP secret: 20 random bytes, hex (what django-otp's TOTPDevice makes)."""
    return random_hex(20)


def validate_totp_key(value: str) -> None:
    hex_validator()(value)


@pghistory.track(
    # The secret and the counters every verification moves stay out of the trail: enrolment,
    # confirmation, renaming and removal (a staff reset) are what it records.
    exclude=[
        "key",
        "drift",
        "last_t",
        "throttling_failure_timestamp",
        "throttling_failure_count",
        "last_used_at",
    ],
    meta={"db_table": 'audit"."accounts_totp_device_event'},
)
class TOTPDevice(TimestampMixin, ThrottlingMixin, Device):
    """An authenticator app (RFC 6238 TOTP) whose shared secret is encrypted at rest (ADR 0016).

    It replaces django-otp's `otp_totp.TOTPDevice`, whose hex secret was a plaintext column.
    Fields and behaviour are django-otp's: the code is checked by `django_otp.oath.TOTP`
    (tolerance, clock drift, and `last_t`, which refuses a code of an already used time step),
    failures are throttled by `ThrottlingMixin`, and django-otp's login, middleware and
    `match_token` find the device like any other. Only the key's storage differs: the column
    holds "enc1:<key id>:<token>", and the key rotation command re-encrypts it.

    Not under row-level security, like `accounts.user`: the second login step reads it before
    anyone is logged in.
    """

    key = EncryptedCharField(
        plain_max_length=80,
        validators=[validate_totp_key],
        default=default_totp_key,
        help_text="A hex-encoded secret key of up to 40 bytes, encrypted at rest.",
    )
    step = models.PositiveSmallIntegerField(default=30, help_text="The time step in seconds.")
    t0 = models.BigIntegerField(
        default=0, help_text="The Unix time at which to begin counting steps."
    )
    digits = models.PositiveSmallIntegerField(
        choices=[(6, 6), (8, 8)], default=6, help_text="The number of digits in a code."
    )
    tolerance = models.PositiveSmallIntegerField(
        default=1, help_text="The number of time steps in the past or future to allow."
    )
    drift = models.SmallIntegerField(
        default=0, help_text="The number of time steps the phone's clock is off by."
    )
    last_t = models.BigIntegerField(
        default=-1,
        help_text="The time step of the last accepted code; a code must be of a later step.",
    )

    class Meta(Device.Meta):
        db_table = 'accounts"."totp_device'
        verbose_name = "TOTP device"
        constraints = [
            models.CheckConstraint(condition=models.Q(key__sealed=True), name="totp_key_encrypted"),
            models.CheckConstraint(
                condition=models.Q(digits__in=[6, 8]), name="totp_device_digits"
            ),
            models.CheckConstraint(condition=models.Q(step__gt=0), name="totp_device_step"),
        ]

    @property
    def bin_key(self) -> bytes:
        """The secret as bytes (decrypted when the row was read)."""
        return unhexlify(self.key.encode())

    def verify_token(self, token) -> bool:
        """django-otp's TOTPDevice.verify_token: throttled; a match moves `last_t` past the
        code's time step (so the same code is refused next time) and follows the clock drift."""
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        try:
            code = int(token)
        except (TypeError, ValueError):
            verified = False
        else:
            totp = TOTP(self.bin_key, self.step, self.t0, self.digits, self.drift)
            totp.time = time.time()
            verified = totp.verify(code, self.tolerance, self.last_t + 1)
            if verified:
                self.last_t = totp.t()
                if getattr(settings, "OTP_TOTP_SYNC", True):
                    self.drift = totp.drift
                self.throttle_reset(commit=False)
                self.set_last_used_timestamp(commit=False)
                self.save()
        if not verified:
            self.throttle_increment(commit=True)
        return verified

    def get_throttle_factor(self) -> int:
        return getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1)

    @property
    def config_url(self) -> str:
        """The otpauth:// address an authenticator app reads from the QR code."""
        label = str(self.user.get_username())
        params = urlencode(
            {
                "secret": b32encode(self.bin_key),
                "algorithm": "SHA1",
                "digits": self.digits,
                "period": self.step,
            }
        )
        issuer = getattr(settings, "OTP_TOTP_ISSUER", "")
        if issuer:
            issuer = issuer.replace(":", "")
            label = f"{issuer}:{label}"
            params += f"&issuer={quote(issuer)}"
        return f"otpauth://totp/{quote(label)}?{params}"
