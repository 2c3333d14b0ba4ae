"""The assistant chat with the offline provider, end to end in a real browser."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from apps.assistants.models import UserMemory
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.assistants.conftest import with_role
from tests.assistants.factories import CapabilityFactory, ProfileFactory
from tests.content.factories import LessonFactory, published
from tests.e2e.test_login import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_chat_remembers_and_answers_from_memory_and_lessons(browser, live_server):
    user = with_role(UserFactory(email="sofia@example.org", first_name="Sofia"), "student")
    profile = ProfileFactory(name="Study buddy")
    CapabilityFactory(profile=profile, name="memory")
    lesson = LessonFactory(title="Adding fractions")
    published(lesson.module.course)
    wait = WebDriverWait(browser, 15)

    log_in(browser, live_server, user.email, DEFAULT_PASSWORD)
    wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=welcome]")))
    browser.find_element(By.LINK_TEXT, "Assistants").click()
    wait.until(ec.element_to_be_clickable((By.LINK_TEXT, "Study buddy"))).click()

    def send(text):
        box = wait.until(ec.visibility_of_element_located((By.NAME, "message")))
        box.send_keys(text)
        browser.find_element(By.CSS_SELECTOR, "[data-testid=chat-form] button[type=submit]").click()

    send("Remember that fractions are hard for me.")
    wait.until(
        ec.text_to_be_present_in_element(
            (By.CSS_SELECTOR, "[data-testid=chat-log]"), "I will remember that fractions"
        )
    )
    assert UserMemory.objects.get(user=user).content == "fractions are hard for me"

    send("Can you help with fractions?")
    wait.until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "[data-testid=message-assistant]")) == 2
    )
    answer = browser.find_elements(By.CSS_SELECTOR, "[data-testid=message-assistant]")[-1].text
    assert "- fractions are hard for me" in answer
    assert "Adding fractions" in answer

    browser.find_element(By.LINK_TEXT, "My memories").click()
    content = wait.until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=memory-content]"))
    )
    assert content.text == "fractions are hard for me"
    browser.find_element(By.CSS_SELECTOR, "[data-testid=forget]").click()
    wait.until(
        ec.text_to_be_present_in_element(
            (By.CSS_SELECTOR, "[data-testid=memories]"), "No assistant remembers"
        )
    )
    assert UserMemory.objects.get(user=user).forgotten_at is not None
