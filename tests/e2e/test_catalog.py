"""The catalog in a real browser: search, then open a course page."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.content.factories import CourseFactory, LessonFactory, ModuleFactory, published

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_catalog_search_leads_to_the_course_page(browser, live_server):
    course = published(
        CourseFactory(title="Photosynthesis", short_description="How plants turn light to sugar")
    )
    LessonFactory(module=ModuleFactory(course=course, title="Light reactions"), title="Chlorophyll")
    for title in ("Pottery", "Ancient Rome", "Linear Algebra"):
        published(CourseFactory(title=title))

    browser.get(f"{live_server.url}/")
    browser.find_element(By.LINK_TEXT, "Catalog").click()
    wait = WebDriverWait(browser, 15)
    wait.until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, "[data-testid=result-count]"), "4")
    )

    search = browser.find_element(By.NAME, "q")
    search.send_keys("photosynthesys")  # one typo
    browser.find_element(By.CSS_SELECTOR, "[data-testid=search-button]").click()
    wait.until(ec.url_contains("q=photosynthesys"))
    links = browser.find_elements(By.CSS_SELECTOR, "[data-testid=course-link]")
    assert [link.text for link in links] == ["Photosynthesis"]

    links[0].click()
    title = wait.until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=course-title]"))
    )
    assert title.text == "Photosynthesis"
    syllabus = browser.find_element(By.CSS_SELECTOR, "[data-testid=syllabus]").text
    assert "Light reactions" in syllabus and "Chlorophyll" in syllabus
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=instructor]").text == (
        course.instructor.get_full_name()
    )
    enroll = browser.find_element(By.CSS_SELECTOR, "[data-testid=enroll-button]")
    assert enroll.get_attribute("href").endswith(f"/learn/{course.slug}/")
