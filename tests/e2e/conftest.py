"""A real headless browser: Debian's chromium driven by Selenium through Debian's chromedriver.

Nothing is downloaded: the browser and driver paths are given, and Selenium Manager is told to
stay offline. When a test fails, a screenshot is saved under tests/e2e/artifacts/.

Every test also reads the browser's console: a Content Security Policy violation on any page it
visited fails it (ADR 0016), so the policy and the pages are held to each other.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).parent / "artifacts"
# How Chromium words a CSP refusal in the console ("Refused to execute inline script because it
# violates the following Content Security Policy directive: ...").
CSP_MARKERS = ("Content Security Policy", "Content-Security-Policy")

os.environ.setdefault("SE_OFFLINE", "true")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        driver = item.funcargs.get("browser")
        if driver is not None:
            ARTIFACTS.mkdir(exist_ok=True)
            path = ARTIFACTS / f"{item.name}.png"
            driver.save_screenshot(str(path))
            report.sections.append(("e2e screenshot", str(path)))
    return report


@pytest.fixture
def browser():
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail(
            f"chromium ({CHROMIUM}) or chromedriver ({CHROMEDRIVER}) is missing: "
            "`make test` installs Debian's chromium and chromium-driver"
        )
    profile = tempfile.mkdtemp(prefix="lyceum-e2e-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.implicitly_wait(0)
    try:
        yield driver
        violations = csp_violations(driver)
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    if violations:
        pytest.fail("Content Security Policy violations:\n" + "\n".join(violations))


def csp_violations(driver) -> list[str]:
    """The CSP messages in the browser console since the last call (the log is drained)."""
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if any(marker in entry["message"] for marker in CSP_MARKERS)
    ]
