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
def new_page(browser: Browser, live_server, request):
    """Opens a page in a fresh browser context (its own cookies: one person per context).

    On failure each page of the test is saved as test-results/<test>-<n>.png.
    """
    contexts: list[BrowserContext] = []

    def open_page() -> Page:
        context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
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


@pytest.fixture
def page(new_page) -> Page:
    return new_page()


def vendor_feed_headers(api, scopes: list[str], *, email: str = "billing@vendor.example") -> dict[str, str]:
    """The vendor's billing system over HTTP: a vendor client with `scopes`, its client-credentials
    token, and the headers that carry it to the vendor feeds."""
    import base64  # noqa: PLC0415

    from accounts.services.vendor_clients import vendor_client_create  # noqa: PLC0415
    from tests.factories import UserFactory  # noqa: PLC0415

    staff = UserFactory(organization=None, is_staff=True, email=email)
    client, secret = vendor_client_create(actor=staff, name="Billing", scopes=scopes)
    basic = base64.b64encode(f"{client.application.client_id}:{secret}".encode()).decode()
    token = api.post(
        "/o/token/",
        form={"grant_type": "client_credentials", "scope": " ".join(scopes)},
        headers={"Authorization": f"Basic {basic}"},
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}
