"""OAuth 2 bearer tokens (django-oauth-toolkit) as DRF authentication (ADR 0018)."""

from oauth2_provider.contrib.rest_framework import OAuth2Authentication as _OAuth2Authentication
from rest_framework.exceptions import AuthenticationFailed

# Personal access tokens start with this; the OAuth class leaves them to their own class.
PERSONAL_TOKEN_PREFIX = "lyc_pat_"  # noqa: S105 (a public marker, not a secret)


class OAuth2Authentication(_OAuth2Authentication):
    """An access token from /oauth/token/. A client-credentials token has no user of its own:
    it acts as the application's owner (the user an administrator sets on the application,
    typically a dedicated integration user holding just the roles it needs)."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.startswith("Bearer ") or header[7:].startswith(PERSONAL_TOKEN_PREFIX):
            return None
        result = super().authenticate(request)
        if result is None:
            if header[7:].strip():
                # A bearer token that is unknown, expired or revoked: 401, not anonymous.
                raise AuthenticationFailed("The access token is invalid, expired or revoked.")
            return None
        user, token = result
        if user is None:
            user = token.application.user if token.application_id else None
            if user is None:
                raise AuthenticationFailed("The token's application has no owner user.")
        if not user.is_active:
            raise AuthenticationFailed("User inactive or deleted.")
        return user, token
