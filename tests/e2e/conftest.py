"""Playwright (sync API) driving the system Chromium against pytest-django's live server.

No browser is ever downloaded: Debian's /usr/bin/chromium is launched directly. The Playwright
driver runs an event loop in the test thread, so Django's ORM needs DJANGO_ALLOW_ASYNC_UNSAFE
(set by pytest-env in pyproject.toml; set here too so `pytest tests/e2e` alone never trips it).
The browser lives for the e2e package only, so unit tests collected after it run without that loop.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RESULTS_DIR = Path(__file__).resolve().parents[2] / "test-results"
TIMEOUT_MS = 10_000

expect.set_options(timeout=TIMEOUT_MS)

# Chromium asks every page for /favicon.ico. The portal serves none, so that request runs the
# sign-in/MFA redirect chain in parallel with what the test does and, with
# SESSION_SAVE_EVERY_REQUEST, writes back the session it loaded: a write that can land after the
# second factor was verified and undo it (test_a_request_in_flight_does_not_undo_the_second_factor).
# An icon link on every page stops the request, so the journey tests are not flaky because of it.
NO_FAVICON_REQUEST = """
document.addEventListener("DOMContentLoaded", () => {
  if (!document.querySelector("link[rel~=icon]")) {
    const link = document.createElement("link");
    link.rel = "icon";
    link.href = "data:,";
    document.head.appendChild(link);
  }
});
"""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the item so the page fixture knows whether the test failed.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="package")
def playwright_driver() -> Playwright:
    driver = sync_playwright().start()
    yield driver
    driver.stop()


def launch_chromium(driver: Playwright) -> Browser:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    return driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


@pytest.fixture(scope="package")
def browser(playwright_driver: Playwright) -> Browser:
    browser = launch_chromium(playwright_driver)
    yield browser
    browser.close()


@pytest.fixture
def new_page(browser: Browser, playwright_driver: Playwright, live_server, request):
    """Opens a page in a fresh browser context (its own cookies: one person per context).

    `favicon_request=True` lets Chromium fetch /favicon.ico, in a browser of its own: Chromium
    remembers a favicon that answered 404 across contexts and would not ask again.
    On failure each page of the test is saved as test-results/<test>-<n>.png.
    """
    contexts: list[BrowserContext] = []
    own_browsers: list[Browser] = []

    def open_page(*, favicon_request: bool = False) -> Page:
        if favicon_request:
            own_browsers.append(launch_chromium(playwright_driver))
        owner = own_browsers[-1] if favicon_request else browser
        context = owner.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        if not favicon_request:
            context.add_init_script(NO_FAVICON_REQUEST)
        contexts.append(context)
        return context.new_page()

    yield open_page

    report = getattr(request.node, "rep_call", None)
    failed = report is None or report.failed
    for n, context in enumerate(contexts):
        if failed:
            RESULTS_DIR.mkdir(exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
            for page in context.pages:
                # A screenshot must never hide the real failure.
                with contextlib.suppress(Exception):
                    page.screenshot(path=str(RESULTS_DIR / f"{name}-{n}.png"), full_page=True)
        context.close()
    for own_browser in own_browsers:
        own_browser.close()


@pytest.fixture
def page(new_page) -> Page:
    return new_page()
