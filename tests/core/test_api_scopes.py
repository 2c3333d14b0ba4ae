"""Scopes on every endpoint, table-driven over the generated OpenAPI schema: a token lacking the
operation's scope gets 403 `insufficient_scope`; one holding it is never refused for scope."""

import re
import uuid
from datetime import timedelta

import pytest
import yaml
from django.test import RequestFactory
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application
from rest_framework.request import Request

from apps.accounts.services import personal_access_token_create
from apps.core.api.permissions import HasResourceScope
from apps.core.api.scopes import all_scopes, api_view_classes, view_required_scopes
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def operations(django_db_setup, django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        schema = yaml.safe_load(Client().get("/api/v1/schema/").content)
    found = []
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                found.append((method, path, item[method]))
    return found


def concrete(path: str) -> str:
    """A URL for the path template: ids that exist nowhere (scope is checked before lookup)."""
    return re.sub(r"\{[^}]+\}", lambda m: str(uuid.uuid4()), path)


def oauth_token(user, scopes: set[str]) -> str:
    app = Application.objects.create(
        name="t",
        user=user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    plaintext = uuid.uuid4().hex
    AccessToken.objects.create(
        application=app,
        token=plaintext,
        scope=" ".join(sorted(scopes)),
        expires=timezone.now() + timedelta(hours=1),
    )
    return plaintext


def pat(user, scopes: set[str]) -> str:
    return personal_access_token_create(user=user, name="t", scopes=sorted(scopes))[1]


@pytest.mark.parametrize("make_token", [oauth_token, pat], ids=["oauth", "pat"])
def test_every_operation_needs_its_scope(operations, make_token, client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    everything = set(all_scopes())
    assert len(operations) > 50
    for method, path, operation in operations:
        oauth_flows = [s for s in operation.get("security", []) if "oauth2" in s]
        if not oauth_flows:
            continue  # takes no token at all (the payment provider's webhook: a signature)
        required = set(operation["x-required-scopes"])
        assert required, f"{method.upper()} {path} declares no scope"
        assert required <= everything
        assert oauth_flows == [{"oauth2": sorted(required)}], path
        url = concrete(path)

        lacking = make_token(staff, (everything - required) or {"users:read"})
        response = getattr(client, method)(url, HTTP_AUTHORIZATION=f"Bearer {lacking}")
        assert response.status_code == 403, (method, path, response.content)
        assert response.json()["error"]["code"] == "insufficient_scope", (method, path)
        assert set(response.json()["error"]["fields"]["scope"]) == required

        holding = make_token(staff, required)
        response = getattr(client, method)(
            url, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {holding}"
        )
        if response.status_code == 403:
            assert response.json()["error"]["code"] != "insufficient_scope", (method, path)


def test_every_api_view_declares_and_enforces_scopes():
    factory = RequestFactory()
    views = api_view_classes()
    assert len(views) > 30
    for route, view_class in views:
        if view_class.authentication_classes == [] or view_class.__module__.startswith(
            "drf_spectacular"
        ):
            continue  # takes no token at all, or the public schema and its docs page
        for method in view_class.http_method_names:
            if method in ("head", "options") or not hasattr(view_class, method):
                continue
            assert view_required_scopes(view_class, method), f"{route} {method}: no scope"
            view = view_class()
            view.request = Request(getattr(factory, method)("/"))
            view.args, view.kwargs = (), {}
            permissions = view.get_permissions()
            assert any(isinstance(p, HasResourceScope) for p in permissions), (route, method)


def test_scopes_are_resource_and_action():
    scopes = all_scopes()
    assert {"courses:read", "courses:write", "enrollments:write", "grades:read"} <= set(scopes)
    assert all(re.fullmatch(r"[a-z_]+:(read|write)", name) for name in scopes)
    assert all(scopes.values())
