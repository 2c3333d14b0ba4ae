"""Server-rendered shell pages through Django's test client."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_home_page_for_anonymous_visitors(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Log in" in response.content


def test_home_page_greets_the_user(client, user):
    client.force_login(user)
    response = client.get("/")
    assert f"Welcome back, {user.first_name}".encode() in response.content


def test_theme_cookie_sets_the_page_theme(client):
    client.cookies["theme"] = "dark"
    assert b'data-theme="dark"' in client.get("/").content
    client.cookies["theme"] = "<script>"
    assert b'data-theme="light"' in client.get("/").content


def test_unknown_page_renders_the_html_404(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content
    assert response["Content-Type"].startswith("text/html")


def test_login_with_email_in_any_case(client, user):
    response = client.post(
        reverse("accounts:login"),
        {"username": user.email.upper(), "password": "correct horse battery staple"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")


def test_login_failure_shows_a_form_error(client, user):
    response = client.post(reverse("accounts:login"), {"username": user.email, "password": "wrong"})
    assert response.status_code == 200
    assert b"do not match an active account" in response.content


def test_logout_requires_post_and_logs_out(client, user):
    client.force_login(user)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert b"Log in" in client.get("/").content


def test_admin_login_sends_visitors_to_the_site_login(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/"
    assert client.get(response["Location"]).status_code == 200


def test_verified_staff_reach_the_admin(verified_staff_client):
    assert verified_staff_client.get("/admin/").status_code == 200
    assert verified_staff_client.get("/admin/accounts/user/").status_code == 200


def test_pages_carry_the_product_name_not_the_host(client):
    # Django's LoginView puts the request host in `site_name`; the layout must not show it.
    response = client.get(reverse("accounts:login"))
    assert b'<a class="brand" href="/">Lyceum</a>' in response.content
