"""Operators' sign-in (POST /auth and /admin/login) under guessing (issue 21): attempts are reserved before
argon2 runs, so 20 parallel wrong guesses reach the password check at most as often as the limit allows;
then 429 + Retry-After (JSON for the API, a page saying when for the admin form); the operator, from another
address, still signs in."""
import json
import re
from datetime import datetime, timezone
from types import SimpleNamespace
from urllib.parse import urlencode

import guessing
from functions.notifications.chalicelib import settings
from functions.notifications.chalicelib.api import auth
from notifications_helpers import OPERATOR, PASSWORD
from products import load_app

GUESSER = "203.0.113.77"
ELSEWHERE = "198.51.100.30"
LIMIT = auth.PER_OPERATOR_AND_ADDRESS.free


def attempt(username, password, address):
    """None for a token, else the refusal's status."""
    try:
        auth.sign_in(username, password, address, datetime.now(timezone.utc), 1)
        return None
    except auth.AppError as error:
        return error.status


def test_twenty_parallel_guesses_reach_argon2_at_most_the_limit(clean, monkeypatch):
    checks = guessing.count_calls(monkeypatch, auth.passwords, "verify_password")
    results = guessing.fire(20, lambda i: attempt(OPERATOR, f"wrong guess {i}", GUESSER))
    assert checks.count == LIMIT
    assert sorted(results) == [401] * LIMIT + [429] * (20 - LIMIT)
    assert attempt(OPERATOR, PASSWORD, GUESSER) == 429          # the right password too, from there
    assert attempt(OPERATOR, PASSWORD, ELSEWHERE) is None       # the operator elsewhere is not locked out
    assert checks.count == LIMIT + 1


def test_forty_parallel_guesses_over_many_names_from_one_address_reach_argon2_at_most_its_limit(
        clean, monkeypatch):
    checks = guessing.count_calls(monkeypatch, auth.passwords, "verify_password")
    results = guessing.fire(40, lambda i: attempt(f"name{i}", "wrong guess", GUESSER))
    assert checks.count == auth.PER_ADDRESS.free
    assert sorted(results) == [401] * auth.PER_ADDRESS.free + [429] * (40 - auth.PER_ADDRESS.free)
    assert attempt(OPERATOR, PASSWORD, ELSEWHERE) is None


def test_the_api_answers_429_with_retry_after_in_json(cloud, clean):
    url = cloud.api_url("NotificationsApi") + "/auth"

    def post(password, source="127.0.0.1"):
        return guessing.request(url, "POST", json.dumps({"username": OPERATOR, "password": password}),
                                {"Content-Type": "application/json"}, source)
    for _ in range(LIMIT):
        assert post("wrong")[0] == 401
    status, headers, body = post(PASSWORD)
    assert status == 429 and 55 <= int(headers["Retry-After"]) <= 60
    error = json.loads(body)["error"]
    assert re.fullmatch(r"Too many attempts\. Try again in \d+ s, after \d\d:\d\d:\d\d UTC\.", error)
    status, _, body = post(PASSWORD, source="127.0.0.2")
    assert status == 200 and json.loads(body)["token"]


def test_the_admin_form_shows_a_page_saying_when_to_come_back(cloud, clean):
    url = cloud.api_url("NotificationsApi") + "/admin/login"

    def post(password, language=None):
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   **({"Accept-Language": language} if language else {})}
        return guessing.request(url, "POST", urlencode({"username": OPERATOR, "password": password}), headers)
    for _ in range(LIMIT):
        assert post("wrong")[0] == 401
    status, headers, page = post(PASSWORD, "en")
    assert status == 429 and 55 <= int(headers["Retry-After"]) <= 60 and "Set-Cookie" not in headers
    assert re.search(r"Too many attempts\. Try again in \d+ s, after \d\d:\d\d:\d\d UTC", page)
    assert 'name="password"' in page
    status, _, page = post(PASSWORD)
    assert status == 429 and re.search(r"Слишком много попыток\. Попробуйте снова через \d+ с, после ", page)


def test_twenty_parallel_guesses_through_the_handlers_reach_argon2_at_most_the_limit(clean, monkeypatch):
    """The same through app.py's POST /auth and /admin/login handlers (the address they pass is the one API
    Gateway saw): guesses on both count against one allowance."""
    routes = load_app("notifications").app.routes
    sign_in_route, login_route = routes["/auth"]["POST"].view_function, routes["/admin/login"]["POST"].view_function
    # Only the token's lifetime is read from the settings here (the rest names queues and schedules).
    monkeypatch.setattr(settings, "load", lambda: SimpleNamespace(token_hours=1, first_operator_password=""))
    call = guessing.thread_requests(monkeypatch)
    checks = guessing.count_calls(monkeypatch, auth.passwords, "verify_password")

    def guess(index):
        if index % 2:
            return call(sign_in_route, json.dumps({"username": OPERATOR, "password": f"wrong {index}"}),
                        GUESSER, {"Content-Type": "application/json"}).status_code
        return call(login_route, urlencode({"username": OPERATOR, "password": f"wrong {index}"}),
                    GUESSER, {"Content-Type": "application/x-www-form-urlencoded"}).status_code
    answers = guessing.fire(20, guess)
    assert checks.count == LIMIT
    assert sorted(answers) == [401] * LIMIT + [429] * (20 - LIMIT)
    body = json.dumps({"username": OPERATOR, "password": PASSWORD})
    assert call(sign_in_route, body, ELSEWHERE, {"Content-Type": "application/json"}).status_code == 200
