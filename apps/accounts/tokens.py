"""Signed, expiring links for e-mail verification (password reset uses Django's own tokens)."""

from django.conf import settings
from django.core import signing

from apps.accounts.models import User

_SALT = "lyceum.accounts.email-verification"


class InvalidLink(Exception):
    """The link was altered, belongs to another address, or has expired (`expired` tells)."""

    def __init__(self, message: str, *, expired: bool = False):
        super().__init__(message)
        self.expired = expired


def email_verification_token(user: User) -> str:
    # The address is part of the payload: changing the e-mail invalidates older links.
    return signing.dumps({"u": str(user.pk), "e": user.email.lower()}, salt=_SALT, compress=True)


def email_verification_user(token: str) -> User:
    """The user a verification token was made for. Raises InvalidLink."""
    try:
        payload = signing.loads(token, salt=_SALT, max_age=settings.EMAIL_VERIFICATION_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise InvalidLink("This verification link has expired.", expired=True) from exc
    except signing.BadSignature as exc:
        raise InvalidLink("This verification link is not valid.") from exc
    user = User.objects.filter(pk=payload.get("u")).first()
    if user is None or user.email.lower() != payload.get("e"):
        raise InvalidLink("This verification link is not valid.")
    return user
