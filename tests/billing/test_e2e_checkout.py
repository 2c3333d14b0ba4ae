"""In a real browser: a learner buys a paid course with a coupon (manual provider), staff mark
the order paid, and the learner opens the course."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from apps.billing import services
from apps.billing.models import Order
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.billing.conftest import paid_course
from tests.billing.factories import CouponFactory
from tests.e2e.conftest import browser  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_checkout_with_the_manual_provider_through_to_course_access(browser, live_server):  # noqa: F811
    course = paid_course(price_minor=4_000, title="Algebra Pro", slug="algebra-pro")
    CouponFactory(code="WELCOME", percent_off=25)
    learner = UserFactory(email="buyer@example.org")
    wait = WebDriverWait(browser, 20)

    browser.get(f"{live_server.url}/accounts/login/?next=/courses/algebra-pro/")
    browser.find_element(By.NAME, "username").send_keys(learner.email)
    browser.find_element(By.NAME, "password").send_keys(DEFAULT_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid=enroll-button]"))).click()

    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=coupon]")))
    browser.find_element(By.CSS_SELECTOR, "[data-testid=coupon]").send_keys("welcome")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=apply]").click()
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "[data-testid=total]"), "30.00"))
    browser.find_element(By.CSS_SELECTOR, "[data-testid=place-order]").click()
    wait.until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, "[data-testid=order-status]"), "Pending")
    )

    # Before payment the course stays closed.
    browser.get(f"{live_server.url}/learn/algebra-pro/")
    assert "payment_required" not in browser.page_source
    order = Order.objects.get(user=learner)
    assert order.total_minor == 3_000

    # Staff receive the transfer and mark the order paid (the admin action's service).
    services.order_pay(order=order, provider="manual", idempotency_key=f"manual:{order.pk}")

    browser.get(f"{live_server.url}/billing/orders/{order.pk}/")
    wait.until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, "[data-testid=order-status]"), "Paid")
    )
    browser.find_element(By.CSS_SELECTOR, "[data-testid=invoice-link]").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=invoice]")))
    assert "30.00 USD" in browser.page_source
    browser.get(f"{live_server.url}/billing/orders/{order.pk}/")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=go-to-course]").click()
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid=resume]")))
    assert course.enrollments.get(user=learner).status == "active"
