"""Rate limits per API client (ADR 0018), counted in the Redis cache."""

from rest_framework.throttling import SimpleRateThrottle


class ClientRateThrottle(SimpleRateThrottle):
    """The "user" rate, counted per client: every token of one OAuth application shares one
    budget, a personal access token has its own, a browser session counts for its user.
    Anonymous calls are left to AnonRateThrottle. Over the limit: 429 with Retry-After."""

    scope = "user"

    def get_cache_key(self, request, view):
        user = getattr(request, "user", None)
        if not (user and user.is_authenticated):
            return None
        token = request.auth
        application_id = getattr(token, "application_id", None)
        if application_id is not None:
            ident = f"app:{application_id}"
        elif token is not None and getattr(token, "pk", None) is not None:
            ident = f"{type(token).__name__.lower()}:{token.pk}"
        else:
            ident = f"user:{user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
