"""No input makes a 5xx: every route of the app (app.routes, so a new one is included) fuzzed with hypothesis in
process (JSON of any shape and depth, forms, odd charsets, NUL, lone surrogates, huge numbers and dates) with the
account's token (header, query or cookie) or none; and the inputs once seen to give a 500, each a 4xx naming
the field."""
import json
import uuid

import pytest

import fuzz_support

MAX_EXAMPLES = 40
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def environment(start_cloud):
    return fuzz_support.function_environment(start_cloud, "MailImportWebFunction")


@pytest.fixture
def mail_import(environment):
    with fuzz_support.product("mail_import", environment) as app:
        yield app


@pytest.fixture
def account(mail_import, monkeypatch):
    """(id, bearer header) of a new account (nothing is imported: only the web function runs; no IMAP server
    answers its login, so that check is skipped for it)."""
    from functions.mail_import.chalicelib.engine import accounts
    monkeypatch.setattr(accounts, "check_login", lambda account: None)
    answer = mail_import.call("POST", "/api/accounts", headers=JSON, body=json.dumps(
        {"provider": "custom", "host": "127.0.0.1", "port": "993", "ssl": "on", "login": f"me.{uuid.uuid4().hex}",
         "password": "p"}))       # a login of its own: the same mailbox again would be the account already there
    assert answer.status == 201, answer.body
    return str(answer.json()["id"]), {"Authorization": f"Bearer {answer.json()['token']}"}


@pytest.mark.parametrize("query, field", [
    ({"limit": "-1"}, "limit"), ({"limit": "0"}, "limit"), ({"after": "9" * 20}, "after"), ({"before": "-5"}, "before"),
    ({"q": "a", "to": "9999-12-31"}, "to"), ({"q": "a", "from": "0001-01-01"}, "from"),
    ({"q": "a", "limit": "²"}, "limit"), ({"q": "a\x00"}, "q"),
])
def test_query_numbers_and_dates_out_of_range_are_a_400_naming_them(mail_import, account, query, field):
    account_id, bearer = account
    answer = mail_import.call("GET", "/api/accounts/{account_id}/messages", {"account_id": account_id}, query,
                              bearer)
    assert (answer.status, answer.json().get("field")) == (400, field), answer.body


@pytest.mark.parametrize("minutes", ["²", "١٠", "-5", 1.5, True, [5], "9" * 30])
def test_sync_minutes_that_are_not_a_whole_number_are_a_400_naming_them(mail_import, account, minutes):
    account_id, bearer = account
    answer = mail_import.call("PUT", "/api/accounts/{account_id}/sync", {"account_id": account_id},
                              headers=dict(bearer, **JSON), body=json.dumps({"minutes": minutes}))
    assert (answer.status, answer.json().get("field")) == (400, "minutes"), answer.body


@pytest.mark.parametrize("path, name", [("/accounts/{account_id}/messages/{message_id}", "message_id"),
                                        ("/accounts/{account_id}/messages/{message_id}/html", "message_id"),
                                        ("/accounts/{account_id}/attachments/{attachment_id}", "attachment_id")])
@pytest.mark.parametrize("value", ["²", "١٢", "9" * 25])
def test_page_ids_that_are_not_ascii_numbers_are_not_found(mail_import, account, path, name, value):
    account_id, bearer = account
    answer = mail_import.call("GET", path, {"account_id": account_id, name: value}, headers=bearer)
    assert answer.status == 404, answer.body[:300]


def test_no_route_answers_5xx_to_any_input(mail_import, account):
    account_id, bearer = account
    token = bearer["Authorization"].split()[1]
    known = {"headers": [bearer, {"Cookie": f"mail_import_{account_id}={token}"}],
             "ids": {"account_id": [account_id], "message_id": ["1"], "attachment_id": ["1"]}}
    problems, counts, statuses = fuzz_support.fuzz_routes(mail_import, known, MAX_EXAMPLES)
    assert len(counts) == len(mail_import.routes()) and sum(counts.values()) >= MAX_EXAMPLES * len(counts)
    assert statuses[200] > 50 and statuses[400] > 50          # past the token, and into the checks
    assert problems == {}, "\n".join(f"{route}: {found}" for route, found in problems.items())
