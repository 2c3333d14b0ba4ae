"""Reads owned by accounts."""

from django.db.models import QuerySet
from django.utils import timezone

from apps.accounts.models import PersonalAccessToken, User, UserPreferences


def preferences_for(*, user: User) -> UserPreferences:
    """The user's preferences, or unsaved defaults when none were saved yet (one query)."""
    try:
        return UserPreferences.objects.get(user=user)
    except UserPreferences.DoesNotExist:
        return UserPreferences(user=user)


def users_with_phone(*, phone: str) -> QuerySet[User]:
    """Users whose (encrypted) phone is exactly this E.164 number, found by its blind index
    under any configured key (a blind-index key rotation may be under way)."""
    indexes = User._meta.get_field("phone_index").indexes_of(phone.strip())
    return User.objects.filter(phone_index__in=indexes) if indexes else User.objects.none()


def user_list() -> QuerySet[User]:
    """Users that exist (deleted ones excluded), by e-mail."""
    return User.objects.order_by("email")


def personal_access_token_list(*, user: User) -> QuerySet[PersonalAccessToken]:
    """The user's personal access tokens, revoked and expired ones included, newest first."""
    return PersonalAccessToken.objects.filter(user=user).order_by("-created_at")


def personal_access_token_active(*, token_hash: str) -> PersonalAccessToken | None:
    """The live (not revoked, not expired) token with this hash, with its user, or None."""
    return (
        PersonalAccessToken.objects.select_related("user")
        .filter(token_hash=token_hash, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
