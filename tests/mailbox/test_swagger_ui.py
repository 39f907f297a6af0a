"""Swagger UI at /api/doc renders the API in a real browser that cannot reach the internet."""
import shutil
from urllib.parse import urlsplit

import pytest
from playwright import sync_api

# Debian's chromium (infra/system.sh installs it); a missing browser fails the test, never skips it.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
OPERATIONS = 9


@pytest.fixture
def browser():
    assert shutil.which(CHROMIUM), "Debian's chromium is missing: run infra/system.sh (apt-get install chromium)"
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
        yield instance
        instance.close()


def test_swagger_ui_works_offline(browser, api_url):
    page = browser.new_page()
    remote, failed = [], []

    def offline(route):
        # Anything not served by the local gateway would need the internet: refuse it and remember it.
        if urlsplit(route.request.url).hostname not in ("127.0.0.1", "localhost"):
            remote.append(route.request.url)
            return route.abort()
        return route.continue_()

    page.route("**/*", offline)
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto(api_url + "/api/doc")
    page.wait_for_selector(".opblock", timeout=15_000)
    assert page.locator(".opblock").count() == OPERATIONS
    assert "Mailbox API" in page.locator(".info .title").inner_text()
    assert remote == [] and failed == []
