"""Reads owned by accounts."""

from django.db.models import QuerySet

from apps.accounts.models import User, UserPreferences


def preferences_for(*, user: User) -> UserPreferences:
    """The user's preferences, or unsaved defaults when none were saved yet (one query)."""
    try:
        return UserPreferences.objects.get(user=user)
    except UserPreferences.DoesNotExist:
        return UserPreferences(user=user)


def user_list() -> QuerySet[User]:
    """Users that exist (deleted ones excluded), by e-mail."""
    return User.objects.order_by("email")
