"""GET / (a short page linking the API docs, Russian or English) and the access table: which routes are public,
declared once, and every other route refused without a key before it runs."""
import re

import pytest

from functions.mailbox.chalicelib import access


def test_the_landing_page_is_russian_by_default_and_links_the_docs(http):
    page = http("GET", "/")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert '<html lang="ru">' in page.text and "Документация API" in page.text and "Входящие" in page.text
    # Links carry the stage prefix (API Gateway's URL has it; the local gateway says it came through it too).
    assert 'href="/prod/api/doc"' in page.text and 'href="/prod/api/openapi.json"' in page.text
    assert 'class="card"' in page.text and "header a.product" in page.text       # common/base.html's look
    for link in re.findall(r'href="(/[^"]*)"', page.text):
        assert http("GET", link).status_code == 200, link


def test_the_landing_page_in_english(http):
    page = http("GET", "/prod/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert page.status_code == 200 and '<html lang="en">' in page.text
    assert "API documentation (Swagger UI)" in page.text and "Документация" not in page.text
    assert 'href="/prod/api/doc"' in page.text and 'href="/prod/api/openapi.json"' in page.text


def test_the_public_table_names_real_routes_and_every_other_route_needs_a_key(mailbox, monkeypatch):
    routes = {(method, path) for path, methods in mailbox.app.routes.items() for method in methods}
    assert access.PUBLIC <= routes and ("GET", "/") in access.PUBLIC
    reached = []
    monkeypatch.setattr(access, "authenticate", lambda cur, headers: reached.append(1) or access.Mailbox(1, "x@y.z"))
    for method, path in sorted(routes - access.PUBLIC):
        params = {name: "1" for name in re.findall(r"{(\w+)}", path)}
        answer = mailbox.call(method, path, params=params, headers={"X-API-Key": "k"})
        assert reached, (method, path)      # the middleware looked at the key before the route ran
        reached.clear()
        assert answer.status != 401, (method, path, answer.body)
    for method, path in sorted(access.PUBLIC):
        mailbox.call(method, path, params={"asset": "swagger-ui.css"})
        assert not reached, (method, path)  # public: no key asked for


def test_a_route_the_middleware_did_not_authenticate_gets_no_caller(mailbox):
    answer = mailbox.call("GET", "/me", headers={"X-API-Key": "k"})
    assert answer.status == 401                     # an unknown key, through the middleware
    request = type("Request", (), {"context": {}})()
    with pytest.raises(access.web.AppError) as refused:
        access.caller(request)                      # a route the middleware skipped gets no caller
    assert refused.value.status == 401
