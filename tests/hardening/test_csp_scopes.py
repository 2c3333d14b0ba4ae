"""Where the Content Security Policy differs, and where it must not (ADR 0016): DRF's browsable
API admits style attributes and nothing else; the admin, the JSON API and the pages keep the site
policy."""

import re

import pytest
from django.contrib import admin
from django.test import RequestFactory

pytestmark = pytest.mark.django_db


def _directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {
        part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else ""
        for part in (p.strip() for p in policy.split(";"))
        if part
    }


def test_the_browsable_api_admits_style_attributes_only(verified_staff_client):
    response = verified_staff_client.get("/api/v1/accounts/me/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    directives = _directives(response)
    assert directives["style-src-attr"] == "'unsafe-inline'"
    assert "unsafe-inline" not in directives["script-src"]
    assert "unsafe-inline" not in directives["style-src"]
    nonce = response.wsgi_request.csp_nonce
    assert f"'nonce-{nonce}'" in directives["style-src"]


def test_json_api_responses_keep_the_site_policy(verified_staff_client):
    response = verified_staff_client.get("/api/v1/accounts/me/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert "style-src-attr" not in _directives(response)
    assert "unsafe-inline" not in response["Content-Security-Policy"]


# Markup a policy without 'unsafe-inline' refuses: style attributes, <style> or executable
# <script> elements without the nonce, and event handler attributes.
STYLE_ATTRIBUTE = re.compile(r"<[a-zA-Z][^>]*\sstyle\s*=", re.DOTALL)
EVENT_HANDLER = re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", re.DOTALL)
INLINE_ELEMENT = re.compile(r"<(style|script)\b([^>]*)>", re.DOTALL)
DATA_SCRIPT = re.compile(r"type=[\"'](application/json|text/template)[\"']")


def _inline_markup(html: str, nonce: str) -> list[str]:
    found = [m.group(0)[:80] for m in STYLE_ATTRIBUTE.finditer(html)]
    found += [m.group(0)[:80] for m in EVENT_HANDLER.finditer(html)]
    for match in INLINE_ELEMENT.finditer(html):
        tag, attributes = match.groups()
        if tag == "script" and ("src=" in attributes or DATA_SCRIPT.search(attributes)):
            continue
        if f'nonce="{nonce}"' not in attributes:
            found.append(match.group(0)[:80])
    return found


def _admin_pages(staff):
    request = RequestFactory().get("/")
    request.user = staff
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        yield f"/admin/{meta.app_label}/{meta.model_name}/"
        if model_admin.has_add_permission(request):
            yield f"/admin/{meta.app_label}/{meta.model_name}/add/"
    yield "/admin/"
    yield "/admin/database-health/"


def test_every_admin_list_and_add_page_keeps_the_site_policy(verified_staff_client, staff_user):
    """Every registered model's change list and add form, rendered: no markup the policy would
    refuse (the browser tests open a few of them and read the console)."""
    offenders = {}
    for path in _admin_pages(staff_user):
        response = verified_staff_client.get(path)
        assert response.status_code == 200, path
        assert "unsafe-inline" not in response["Content-Security-Policy"], path
        nonce = getattr(response.wsgi_request, "_csp_nonce", None) or ""
        if found := _inline_markup(response.content.decode(), nonce):
            offenders[path] = found
    assert offenders == {}


def test_the_detector_sees_inline_markup():
    html = '<p style="x"></p><b onclick="f()"></b><style>a{}</style><script>x</script>'
    assert len(_inline_markup(html, "abc")) == 4
    clean = '<style nonce="abc">a{}</style><script src="/s.js"></script>'
    assert _inline_markup(clean + '<script type="application/json">{}</script>', "abc") == []


def test_pages_keep_the_site_policy(client):
    response = client.get("/accounts/login/")
    assert "style-src-attr" not in _directives(response)
    assert "unsafe-inline" not in response["Content-Security-Policy"]
