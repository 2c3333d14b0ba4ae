"""In a real browser: a learner subscribes with a plan coupon (manual provider), sees the price
of switching plans midway and switches; the first period and the prorated difference are
orders to pay by bank transfer, linked from the page."""

import datetime as dt

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from apps.billing.models import Order, OrderLine, Subscription
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.billing.factories import CouponFactory, PlanFactory
from tests.e2e.conftest import browser  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_subscribe_with_a_coupon_then_switch_plan_with_proration(browser, live_server):  # noqa: F811
    basic = PlanFactory(slug="basic", name="Basic", price_minor=1_500)
    PlanFactory(slug="pro", name="Pro", price_minor=3_000)
    CouponFactory(code="PLAN20", percent_off=20).plans.add(basic)
    learner = UserFactory(email="subscriber@example.org")
    wait = WebDriverWait(browser, 20)

    browser.get(f"{live_server.url}/accounts/login/?next=/billing/subscription/")
    browser.find_element(By.NAME, "username").send_keys(learner.email)
    browser.find_element(By.NAME, "password").send_keys(DEFAULT_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    coupon = wait.until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=coupon-basic]"))
    )
    coupon.send_keys("plan20")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=subscribe-basic]").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=subscription]")))
    assert "Coupon PLAN20: 20% off for 1 paid period." in browser.page_source
    first = Order.objects.get(user=learner)
    assert (first.discount_minor, first.status) == (300, "pending")

    # Halfway through a 30-day period.
    now = timezone.now()
    start, end = now - dt.timedelta(days=15), now + dt.timedelta(days=15)
    Subscription.objects.filter(user=learner).update(
        current_period_start=start, current_period_end=end
    )
    OrderLine.objects.filter(order=first).update(period_start=start, period_end=end)
    browser.get(f"{live_server.url}/billing/subscription/")
    proration = wait.until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=plan-pro] p"))
    )
    # Credit: half of the discounted 12.00; charge: half of 30.00.
    assert "15.00 USD, less 6.00 USD for the unused time" in proration.text
    assert "9.00 USD to pay" in proration.text
    browser.find_element(By.CSS_SELECTOR, "[data-testid=switch-pro]").click()
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "body"), "Your plan is now Pro"))
    unpaid = browser.find_elements(By.CSS_SELECTOR, "[data-testid=unpaid-order] a")
    assert len(unpaid) == 2
    assert Subscription.objects.get(user=learner).plan.slug == "pro"
    unpaid[-1].click()
    wait.until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, "[data-testid=order-status]"), "Pending")
    )
    assert "Unused time on Basic" in browser.page_source
