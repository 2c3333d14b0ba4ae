"""Personal access tokens as DRF authentication: `Authorization: Bearer lyc_pat_...`."""

from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from apps.accounts import selectors, services
from apps.core.api.authentication import PERSONAL_TOKEN_PREFIX


class PersonalAccessTokenAuthentication(BaseAuthentication):
    """Authenticates as the token's user; `request.auth` is the token (its scopes then bound
    what the request may do, see apps.core.api.permissions.HasResourceScope)."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, credentials = header.partition(" ")
        credentials = credentials.strip()
        if scheme != "Bearer" or not credentials.startswith(PERSONAL_TOKEN_PREFIX):
            return None
        token = selectors.personal_access_token_active(
            token_hash=services.personal_access_token_hash(credentials)
        )
        if token is None:
            raise AuthenticationFailed("The personal access token is invalid, expired or revoked.")
        if not token.user.is_active:
            raise AuthenticationFailed("User inactive or deleted.")
        services.personal_access_token_touch(token=token)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
