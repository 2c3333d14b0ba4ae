"""Writes owned by accounts."""

from django.db import transaction

from apps.accounts.models import User


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
    """Create a user with a hashed password. Raises ValidationError on invalid or taken fields."""
    return User.objects.create_user(
        email=email,
        password=password,
        username=username or email.split("@", 1)[0],
        first_name=first_name,
        last_name=last_name,
        is_staff=is_staff,
        is_superuser=is_superuser,
    )


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
    user = User.objects.select_for_update().filter(email__iexact=email).first()
    if user is None:
        return (
            user_create(
                email=email,
                password=password,
                username=username,
                first_name=first_name,
                last_name=last_name,
                is_staff=is_staff,
                is_superuser=is_superuser,
            ),
            True,
        )
    user.username = username
    user.first_name = first_name
    user.last_name = last_name
    user.is_staff = is_staff
    user.is_superuser = is_superuser
    user.is_active = True
    if not user.check_password(password):
        user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user, False
