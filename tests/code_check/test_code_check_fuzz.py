"""No input makes a 5xx: every route of the app (app.routes, so a new one is included) fuzzed with hypothesis in
process (JSON of any shape and depth, forms and multipart with odd charsets, NUL, lone surrogates, huge ids)
signed in by session cookie (with the CSRF token in half the forms), by API token, or not at all; and the
inputs once seen to give a 500, each a 4xx naming the field."""
import base64
import json
import uuid

import pytest

import fuzz_support
from code_check_helpers import PASSWORD
from functions.code_check.chalicelib.accounts import sessions, tokens, users

MAX_EXAMPLES = 25
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def environment(start_cloud):
    return fuzz_support.function_environment(start_cloud, "CodeCheckWebFunction")


@pytest.fixture
def code_check(environment):
    with fuzz_support.product("code_check", environment) as app:
        yield app


@pytest.fixture
def user(tx):
    """(session cookie header, csrf, API token) of a new user."""
    with tx() as cur:
        user_id = users.register(cur, f"u{uuid.uuid4().hex[:10]}@test.example", PASSWORD)
        session, csrf = sessions.create(cur, user_id, 1)
        token, _ = tokens.create(cur, user_id, "fuzz")
    return {"Cookie": f"{sessions.COOKIE}={session}; {sessions.PRE_COOKIE}=pre"}, csrf, token


def page(app, method, path, headers, body=b"", params=None):
    answer = app.call(method, path, params, headers=dict(headers, **{"Accept-Language": "en"}), body=body)
    return answer.status, answer.body


def test_nul_in_the_email_is_a_400_naming_it(code_check):
    for path in ("/register", "/login"):
        status, text = page(code_check, "POST", path, {"Content-Type": FORM, "Cookie": f"{sessions.PRE_COOKIE}=x"},
                            b"csrf=x&email=a%00b%40example.com&password=" + PASSWORD.encode())
        assert status == 400 and "email contains a character that is not allowed" in text, (path, status, text)


def test_nul_in_a_token_name_is_a_400_naming_it(code_check, user):
    cookie, csrf, _ = user
    status, text = page(code_check, "POST", "/tokens", dict(cookie, **{"Content-Type": FORM}),
                        f"csrf={csrf}&name=a%00b".encode())
    assert status == 400 and "name contains a character that is not allowed" in text, text


def test_a_multipart_part_in_an_unknown_charset_is_a_400_naming_it(code_check, user):
    cookie, csrf, _ = user
    body = (f'--b\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf}\r\n'
            '--b\r\nContent-Disposition: form-data; name="comment"\r\nContent-Type: text/plain; charset=nope\r\n\r\n'
            'x\r\n--b--\r\n').encode()
    multipart = {"Content-Type": "multipart/form-data; boundary=b"}
    status, text = page(code_check, "POST", "/files", dict(cookie, **multipart), body)
    assert status == 400 and "comment is not text in a character set that can be read" in text, text


def test_deeply_nested_json_on_the_api_upload_is_a_400_naming_the_body(code_check, user):
    _, _, token = user
    content = base64.b64encode(b"x = 1\n").decode()
    for body in ('{"files": [{"name": "a.py", "content": "' + content + '"}], "x": ' + "[" * 5000 + "]" * 5000 + "}",
                 "[" * 60000):
        answer = code_check.call("POST", "/api/files", headers={"Authorization": f"Bearer {token}",
                                                                "Content-Type": "application/json"}, body=body)
        assert (answer.status, answer.json().get("field")) == (400, "body"), answer.body


@pytest.mark.parametrize("name", ["a\\ud800.py", "a\\u0000.py"])
def test_a_file_name_with_a_lone_surrogate_or_nul_is_refused_not_a_500(code_check, user, name):
    _, _, token = user
    body = '{"files": [{"name": "' + name + '", "content": "eA=="}]}'
    answer = code_check.call("POST", "/api/files", headers={"Authorization": f"Bearer {token}",
                                                            "Content-Type": "application/json"}, body=body)
    assert answer.status in (200, 400), answer.body
    if answer.status == 200:
        assert answer.json()["results"][0]["status"] == "refused", answer.body
    else:
        assert answer.json()["field"] == "files[0].name", answer.body


def test_a_badge_name_with_nul_is_a_400_naming_it(code_check):
    answer = code_check.call("GET", "/badges/{badge_name}", {"badge_name": "a\x00b.svg"})
    assert (answer.status, answer.json().get("field")) == (400, "badge_name"), answer.body


def test_no_route_answers_5xx_to_any_input(code_check, tx):
    def known():
        """A new user with a session, an API token and a file before each route (one may have signed out,
        revoked the token or deleted the file)."""
        with tx() as cur:
            user_id = users.register(cur, f"u{uuid.uuid4().hex[:10]}@test.example", PASSWORD)
            session, csrf = sessions.create(cur, user_id, 1)
            token, row = tokens.create(cur, user_id, "fuzz")
        bearer = {"Authorization": f"Bearer {token}"}
        uploaded = code_check.call("POST", "/api/files", headers=dict(bearer, **{"Content-Type": "application/json"}),
                                   body=json.dumps({"files": [{"name": "fuzz.py",
                                                               "content": base64.b64encode(b"x = 1\n").decode()}]}))
        assert uploaded.status == 200, uploaded.body
        listed = code_check.call("GET", "/api/files", headers=bearer).json()["files"]
        cookie = {"Cookie": f"{sessions.COOKIE}={session}; {sessions.PRE_COOKIE}=pre"}
        return {"headers": [cookie, bearer, {"Cookie": f"{sessions.PRE_COOKIE}=pre"}],
                "ids": {"file_id": [str(listed[0]["id"])], "version": ["1"], "token_id": [str(row["id"])],
                        "badge_name": [listed[0]["badge_url"].rsplit("/", 1)[-1]],
                        "asset": ["swagger-ui.css", "index.html"]},
                "fields": {"csrf": [csrf, "pre"]}}

    problems, counts, statuses = fuzz_support.fuzz_routes(code_check, known, MAX_EXAMPLES)
    assert len(counts) == len(code_check.routes()) and sum(counts.values()) >= MAX_EXAMPLES * len(counts)
    assert statuses[200] > 300 and statuses[400] > 100          # past sign-in, and into the checks
    assert problems == {}, "\n".join(f"{route}: {found}" for route, found in problems.items())
