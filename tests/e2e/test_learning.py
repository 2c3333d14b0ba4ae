"""A learner in a real browser: enroll, open a lesson, pass the quiz, see progress and the
certificate."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from apps.content.models import InteractiveContent
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.content.factories import (
    QUIZ_CONFIG,
    CourseFactory,
    LessonFactory,
    ModuleFactory,
    published,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_enroll_learn_pass_the_quiz_and_get_the_certificate(browser, live_server):
    course = published(CourseFactory(title="Fractions", slug="fractions"))
    module = ModuleFactory(course=course, title="Halves and quarters", position=1)
    LessonFactory(
        module=module,
        position=1,
        title="What is a fraction",
        content="A fraction is a part of a whole.",
    )
    quiz_lesson = LessonFactory(
        module=module, position=2, title="Fraction quiz", lesson_type="quiz"
    )
    InteractiveContent.objects.create(
        lesson=quiz_lesson, title="Fraction check", content_type="quiz", configuration=QUIZ_CONFIG
    )
    learner = UserFactory(email="pupil@example.org")
    wait = WebDriverWait(browser, 20)

    browser.get(f"{live_server.url}/accounts/login/?next=/learn/fractions/")
    browser.find_element(By.NAME, "username").send_keys(learner.email)
    browser.find_element(By.NAME, "password").send_keys(DEFAULT_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()

    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid=enroll]"))).click()
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid=resume]"))).click()
    assert "A fraction is a part of a whole." in browser.page_source
    browser.find_element(By.CSS_SELECTOR, "[data-testid=mark-complete]").click()

    # Back on the outline: the first lesson is done, 50 %.
    wait.until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, "[data-testid=progress-percent]"), "50%")
    )
    states = [
        e.get_attribute("data-state")
        for e in browser.find_elements(By.CSS_SELECTOR, "[data-testid=lesson-state]")
    ]
    assert states == ["done", "available"]

    browser.find_element(By.LINK_TEXT, "Fraction quiz").click()
    form = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=quiz-form]")))
    form.find_element(By.CSS_SELECTOR, "input[name=q-q1][value=b]").click()
    form.find_element(By.CSS_SELECTOR, "input[name=q-q2][value=false]").click()
    form.find_element(By.CSS_SELECTOR, "input[name=q-q3]").send_keys("Paris")
    form.find_element(By.CSS_SELECTOR, "input[name=q-q4][value=a]").click()
    form.find_element(By.CSS_SELECTOR, "input[name=q-q4][value=c]").click()
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    result = wait.until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=quiz-result]"))
    )
    assert result.text.startswith("Passed")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=certificate-link]").click()
    certificate = wait.until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=certificate]"))
    )
    assert "Fractions" in certificate.text
    code = browser.find_element(By.CSS_SELECTOR, "[data-testid=certificate-code]").text
    assert len(code) == 14

    browser.get(f"{live_server.url}/learn/")
    summary = browser.find_element(By.CSS_SELECTOR, "[data-testid=enrollment]").text
    assert "Completed · 2 of 2 lessons" in summary
