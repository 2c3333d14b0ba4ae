"""Validation shared by forms, serializers and models (the database re-checks with CHECKs)."""

import zoneinfo

import phonenumbers
from django.core.exceptions import ValidationError

E164_REGEX = r"^\+[1-9][0-9]{1,14}$"
GRADE_LEVELS = ("K", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12")
NOTIFICATION_KEYS = ("course_updates", "lesson_reminders", "announcements", "marketing")
DEFAULT_NOTIFICATIONS = {
    "course_updates": True,
    "lesson_reminders": True,
    "announcements": True,
    "marketing": False,
}


def validate_e164_phone(value: str) -> None:
    """A phone number in E.164 form (+ and country code), and a number that can exist."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            "Enter the phone number in international form, e.g. +14155550123.", code="phone"
        ) from exc
    if (
        not phonenumbers.is_valid_number(number)
        or phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) != value
    ):
        raise ValidationError(
            "Enter a valid phone number in international form, e.g. +14155550123.", code="phone"
        )


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone.", code="timezone")


def validate_notifications(value) -> None:
    """Notification preferences: an object whose keys are known settings, each true or false."""
    if not isinstance(value, dict):
        raise ValidationError("Notification preferences must be an object.", code="shape")
    unknown = sorted(set(value) - set(NOTIFICATION_KEYS))
    if unknown:
        raise ValidationError(
            f"Unknown notification settings: {', '.join(unknown)}.", code="unknown_key"
        )
    not_bool = sorted(k for k, v in value.items() if not isinstance(v, bool))
    if not_bool:
        raise ValidationError(
            f"Notification settings must be true or false: {', '.join(not_bool)}.",
            code="not_boolean",
        )


def validate_grade_levels(value) -> None:
    bad = [level for level in value if level not in GRADE_LEVELS]
    if bad:
        raise ValidationError(
            f"Grade levels are K and 1-12; not {', '.join(map(str, bad))}.", code="grade_level"
        )
