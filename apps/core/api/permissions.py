"""Scope enforcement for every API endpoint (ADR 0018)."""

from rest_framework.permissions import BasePermission

from apps.core.api.scopes import token_scopes, view_required_scopes
from apps.core.exceptions import PermissionDeniedError


class HasResourceScope(BasePermission):
    """A token (OAuth access token or personal access token) must carry the scope the operation
    needs; a browser session needs none. Roles and object permissions still decide what the
    user behind either may do: a scope only narrows, never widens."""

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if token is None:
            return True  # session (or anonymous): the view's other permissions decide
        required = view_required_scopes(type(view), request.method)
        if required is None:
            raise PermissionDeniedError(
                "This endpoint declares no scope, so tokens may not call it.",
                code="insufficient_scope",
            )
        missing = required - token_scopes(token)
        if missing:
            raise PermissionDeniedError(
                f"The token lacks the scope {', '.join(sorted(missing))}.",
                code="insufficient_scope",
                fields={"scope": sorted(missing)},
            )
        return True
