"""The Content Security Policy, seen from a real browser (ADR 0016).

The `browser` fixture fails any test whose pages made the console report a CSP violation; these
tests visit the pages no other browser test does, and prove the detector sees a violation.
"""

import pytest
from django_otp.oath import totp
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from apps.accounts.models import TOTPDevice
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.e2e.conftest import csp_violations
from tests.e2e.test_login import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_console_check_sees_an_inline_script_the_policy_refuses(browser, live_server):
    browser.get(f"{live_server.url}/")
    browser.execute_script(
        "var s = document.createElement('script');"
        "s.textContent = 'document.title = \"injected\"';"
        "document.body.appendChild(s);"
    )
    assert browser.title != "injected"
    violations = csp_violations(browser)  # drained: the fixture's own check then passes
    assert any("script-src" in v for v in violations), violations


def test_the_policy_header_has_a_nonce_and_no_unsafe_inline(client):
    policy = client.get("/accounts/login/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    docs = client.get("/api/v1/docs/")
    nonce = docs.wsgi_request.csp_nonce
    assert f"'nonce-{nonce}'" in docs["Content-Security-Policy"]
    assert f'nonce="{nonce}"' in docs.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/courses/",
        "/accounts/signup/",
        "/accounts/password/reset/",
        "/api/v1/docs/",
        "/learn/",
        "/analytics/",
        "/accounts/profile/",
        "/accounts/security/",
        "/assistants/",
    ],
)
def test_pages_load_without_a_policy_violation(browser, live_server, path):
    UserFactory(email="csp@example.org")
    log_in(browser, live_server, "csp@example.org", DEFAULT_PASSWORD)
    WebDriverWait(browser, 15).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=current-user]"))
    )
    browser.get(f"{live_server.url}{path}")
    WebDriverWait(browser, 15).until(
        lambda b: b.execute_script("return document.readyState") == "complete"
    )
    if path == "/api/v1/docs/":
        WebDriverWait(browser, 30).until(
            ec.presence_of_element_located((By.CSS_SELECTOR, ".swagger-ui .info"))
        )
    assert browser.find_elements(By.TAG_NAME, "h1") or browser.find_elements(
        By.CSS_SELECTOR, ".swagger-ui"
    )


def _log_in_as_verified_staff(browser, live_server):
    """Password, then the authenticator code, through the real pages (the admin needs both)."""
    staff = UserFactory(email="csp-staff@example.org", is_staff=True, is_superuser=True)
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    log_in(browser, live_server, "csp-staff@example.org", DEFAULT_PASSWORD)
    WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.NAME, "token")))
    token = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    browser.find_element(By.NAME, "token").send_keys(f"{token:06d}")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, 15).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=current-user]"))
    )
    return staff


def _open(browser, url):
    browser.get(url)
    WebDriverWait(browser, 15).until(
        lambda b: b.execute_script("return document.readyState") == "complete"
    )


def test_admin_pages_load_without_a_policy_violation(browser, live_server):
    """Change lists, change and add forms with inlines and JavaScript widgets, and the one
    third-party form with an inline script (given the nonce by our template)."""
    staff = _log_in_as_verified_staff(browser, live_server)
    TOTPDevice.objects.create(user=UserFactory(), name="another phone")
    pages = [
        ("/admin/", "#content"),
        ("/admin/accounts/user/", "#result_list"),
        ("/admin/accounts/totpdevice/", "#result_list"),
        ("/admin/audit/domainevententry/", "#changelist"),
        (f"/admin/accounts/user/{staff.pk}/change/", "#user_form"),
        ("/admin/content/course/add/", "#course_form"),
        ("/admin/django_celery_beat/periodictask/add/", "#periodictask_form"),  # inline script
        ("/admin/assistants/assistantprofile/add/", "#assistantprofile_form"),  # SelectFilter
        ("/admin/database-health/", "#content"),
    ]
    for path, selector in pages:
        _open(browser, f"{live_server.url}{path}")
        assert browser.find_elements(By.CSS_SELECTOR, selector), path
        assert csp_violations(browser) == [], path


def test_the_browsable_api_loads_without_a_policy_violation(browser, live_server):
    _log_in_as_verified_staff(browser, live_server)
    for path in ("/api/v1/accounts/me/", "/api/v1/content/courses/", "/api/v1/accounts/me/tokens/"):
        _open(browser, f"{live_server.url}{path}")
        assert browser.find_elements(By.CSS_SELECTOR, ".response-info, .request-info"), path
        assert csp_violations(browser) == [], path
