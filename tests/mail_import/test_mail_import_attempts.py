"""mail_import is no open login tester (issue 21): creating an account or giving a new password, each of
which makes the platform log in to a mailbox, is counted per client address before it is acted on. 20
parallel requests from one address are acted on at most as often as its allowance; then 429 + Retry-After
(JSON for the API, a page saying when for the form); another address is not affected."""
import json
import re
from urllib.parse import urlencode

import pytest

import guessing
from functions.mail_import.chalicelib.engine import accounts
from functions.mail_import.chalicelib.web import attempts

LIMIT = attempts.PER_ADDRESS.free
FIELDS = {"provider": "gmail.com", "login": "someone@gmail.com", "password": "a guess"}


CREATE, PASSWORD = "/api/accounts", "/api/accounts/{account_id}/password"


def route(app_module, path, method="POST"):
    """A route's view as app.py serves it (errors mapped once per app: web.map_errors)."""
    return app_module.app.routes[path][method].view_function


@pytest.fixture
def handler(monkeypatch):
    """handler(route, body, source, content_type, language, **url_params): a route of app.py called in this
    thread as API Gateway would from `source` (tests/guessing.py)."""
    call = guessing.thread_requests(monkeypatch)

    def run(route, body, source, content_type="application/json", language="en", **params):
        return call(route, body, source, {"Content-Type": content_type, "Accept-Language": language}, **params)
    return run


@pytest.fixture
def created(monkeypatch):
    """Counts accounts.add calls (each one logs in to the mailbox) without logging in or storing anything."""
    calls = guessing.Calls(lambda account: (1, "token", False))
    monkeypatch.setattr(accounts, "add", calls)
    return calls


def test_twenty_parallel_creations_from_one_address_are_acted_on_at_most_its_allowance(
        app_module, handler, created):
    answers = guessing.fire(20, lambda i: handler(route(app_module, CREATE), json.dumps(FIELDS), "203.0.113.5"))
    assert created.count == LIMIT
    assert sorted(answer.status_code for answer in answers) == [201] * LIMIT + [429] * (20 - LIMIT)
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert 0 < int(refused.headers["Retry-After"]) <= attempts.PER_ADDRESS.base
    assert re.fullmatch(r"Too many attempts\. Try again in \d+ s, after \d\d:\d\d:\d\d UTC\.",
                        json.loads(refused.body)["error"])
    # Another address is not affected; the form from the refused one gets a page saying when, in Russian.
    assert handler(route(app_module, CREATE), json.dumps(FIELDS), "198.51.100.5").status_code == 201
    page = handler(route(app_module, "/accounts"), urlencode(FIELDS), "203.0.113.5",
                   content_type="application/x-www-form-urlencoded", language="")
    assert page.status_code == 429 and 0 < int(page.headers["Retry-After"]) <= 60
    assert re.search(r"Слишком много попыток\. Попробуйте снова через \d+ с, после ", page.body)
    assert created.count == LIMIT + 1


def test_invalid_requests_are_not_counted(app_module, handler, created):
    for _ in range(LIMIT + 5):
        answer = handler(route(app_module, CREATE), json.dumps(dict(FIELDS, provider="nope")), "203.0.113.6")
        assert answer.status_code == 400
    assert handler(route(app_module, CREATE), json.dumps(FIELDS), "203.0.113.6").status_code == 201


def test_new_passwords_count_against_the_same_allowance(app_module, handler, created, monkeypatch):
    from functions.mail_import.chalicelib.engine import jobs, progress
    from functions.mail_import.chalicelib.web import access
    set_password = guessing.Calls(lambda account_id, password: None)
    monkeypatch.setattr(access, "caller", lambda request: {"id": 7})
    monkeypatch.setattr(accounts, "set_password", set_password)
    monkeypatch.setattr(jobs, "start", lambda account_id: None)
    monkeypatch.setattr(progress, "job_event", lambda job: None)
    for _ in range(LIMIT - 1):
        assert handler(route(app_module, CREATE), json.dumps(FIELDS), "203.0.113.7").status_code == 201
    body = json.dumps({"password": "another guess"})
    assert handler(route(app_module, PASSWORD, "PUT"), body, "203.0.113.7", account_id="7").status_code == 202
    refused = handler(route(app_module, PASSWORD, "PUT"), body, "203.0.113.7", account_id="7")
    assert refused.status_code == 429 and set_password.count == 1
