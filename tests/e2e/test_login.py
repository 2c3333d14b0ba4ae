"""Logging in through the real page, in a real browser."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def wait(browser):
    return WebDriverWait(browser, 15)


def log_in(browser, live_server, email, password):
    browser.get(f"{live_server.url}/accounts/login/")
    browser.find_element(By.NAME, "username").send_keys(email)
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()


def test_login_through_the_page_lands_on_the_home_page(browser, live_server):
    user = UserFactory(first_name="Grace", email="grace@example.org")
    log_in(browser, live_server, "GRACE@example.org", DEFAULT_PASSWORD)
    welcome = wait(browser).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=welcome]"))
    )
    assert welcome.text == "Welcome back, Grace"
    assert browser.current_url == f"{live_server.url}/"
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=current-user]").text == (
        user.get_full_name()
    )


def test_a_wrong_password_shows_an_error_and_stays_on_the_login_page(browser, live_server):
    UserFactory(email="alan@example.org")
    log_in(browser, live_server, "alan@example.org", "not the password")
    alert = wait(browser).until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".form-errors")))
    assert "do not match" in alert.text
    assert "/accounts/login/" in browser.current_url


def test_the_theme_switch_is_remembered_across_pages(browser, live_server):
    browser.get(f"{live_server.url}/")
    html = browser.find_element(By.TAG_NAME, "html")
    assert html.get_attribute("data-theme") == "light"
    browser.find_element(By.CSS_SELECTOR, "[data-theme-toggle]").click()
    assert html.get_attribute("data-theme") == "dark"
    browser.get(f"{live_server.url}/accounts/login/")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("data-theme") == "dark"


def test_unknown_page_shows_the_404_page(browser, live_server):
    browser.get(f"{live_server.url}/no-such-page/")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Page not found"
