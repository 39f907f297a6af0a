"""Swagger UI at /api/doc renders the API in a real browser that cannot reach the internet."""
from urllib.parse import urlsplit

OPERATIONS = 9


def test_swagger_ui_works_offline(chromium, api_url):
    page = chromium.new_page()
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
