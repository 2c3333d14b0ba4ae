"""API scopes, `<resource>:<read|write>`, and which one each API operation needs (ADR 0018).

An API view declares either `scope_resource = "<resource>"` (safe methods need
`<resource>:read`, the others `<resource>:write`) or `required_scopes` for exceptions: a set
(every method) or a dict from HTTP method to a set. The list of scopes a client may ask for is
derived from the views under the API, so a new resource is a new scope without a settings change.
"""

from __future__ import annotations

from functools import cache

from django.urls import URLPattern, URLResolver, get_resolver
from oauth2_provider.scopes import BaseScopes

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# What each resource's scopes cover, for consent pages, the admin and the OpenAPI description.
RESOURCE_DESCRIPTIONS = {
    "users": "your account and preferences",
    "tokens": "your personal access tokens",
    "rbac": "role and permission explanations",
    "audit": "the audit trail and domain events",
    "courses": "courses, modules, lessons, interactive content and course versions",
    "categories": "subject categories",
    "lesson_plans": "lesson plans",
    "enrollments": "enrollments and course rosters",
    "progress": "lesson progress and quiz attempts",
    "grades": "gradebooks",
    "certificates": "certificate verification",
    "billing": "plans, quotes, orders and subscriptions",
    "assistants": "assistants, chat and recommendations",
    "memories": "assistant memories",
    "analytics": "analytics exports and engagement",
    "webhooks": "webhook endpoints and deliveries",
    "jobs": "bulk jobs",
}


def view_required_scopes(view_class, method: str) -> set[str] | None:
    """The scopes an operation needs; None when the view declares nothing (a bug: tests catch
    it, and tokens are refused there)."""
    method = method.upper()
    explicit = getattr(view_class, "required_scopes", None)
    if explicit is not None:
        if isinstance(explicit, dict):
            return set(explicit.get(method, explicit.get("*", ())))
        return set(explicit)
    resource = getattr(view_class, "scope_resource", None)
    if resource is None:
        return None
    return {f"{resource}:{'read' if method in SAFE_METHODS else 'write'}"}


def token_scopes(token) -> set[str]:
    """The scopes an OAuth access token or a personal access token carries (both expose a
    space-separated `scope`)."""
    return set((getattr(token, "scope", "") or "").split())


def _api_view_classes(patterns, prefix: str = "") -> list[tuple[str, type]]:
    found = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            found += _api_view_classes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            view_class = getattr(entry.callback, "cls", None)
            if view_class is not None:
                found.append((prefix + str(entry.pattern), view_class))
    return found


def api_view_classes() -> list[tuple[str, type]]:
    """(route, view class) of every DRF view under /api/."""
    return [
        (route, view_class)
        for route, view_class in _api_view_classes(get_resolver().url_patterns)
        if route.startswith("api/")
    ]


def _describe(scope: str) -> str:
    resource, _, action = scope.partition(":")
    what = RESOURCE_DESCRIPTIONS.get(resource, resource.replace("_", " "))
    return f"{'Read' if action == 'read' else 'Change'} {what}"


@cache
def all_scopes() -> dict[str, str]:
    """Every scope some API operation needs, with a description."""
    names: set[str] = set()
    for _route, view_class in api_view_classes():
        for method in view_class.http_method_names:
            if method not in ("head", "options") and hasattr(view_class, method):
                names |= view_required_scopes(view_class, method) or set()
    return {name: _describe(name) for name in sorted(names)}


class ApiScopes(BaseScopes):
    """django-oauth-toolkit's scopes backend: every API scope may be asked for; a client that
    asks for none gets none (it must name what it needs)."""

    def get_all_scopes(self):
        return all_scopes()

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        return list(all_scopes())

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return []
