"""Every field of account creation refused with 400 (413 when too large) naming it: the JSON API and the form,
through the local cloud's gateway. Nothing of a refused request is stored."""
import json

import pytest
import requests

from mail_import_support import FUNCTIONS

GOOD = {"provider": "custom", "host": "imap.example.com", "port": "993", "ssl": "on", "login": "me@example.com",
        "password": "secret"}


@pytest.fixture(scope="module")
def api(start_cloud):
    return start_cloud(functions=FUNCTIONS).api_url("MailImportApi")


def with_(**fields):
    values = dict(GOOD)
    values.update(fields)
    return {k: v for k, v in values.items() if v is not None}


# (name, fields or raw JSON text, expected status, expected field)
CASES = [
    # Over API Gateway's 10 MB the gateway answers (its own message, no field); below it, we do.
    ("password 10 MB", with_(password="p" * (10 * 1024 * 1024)), 413, None),
    ("password 5 MB", with_(password="p" * (5 * 1024 * 1024)), 413, "body"),
    ("password 1001 chars", with_(password="p" * 1001), 400, "password"),
    ("password missing", with_(password=None), 400, "password"),
    ("password NUL", with_(password="a\x00b"), 400, "password"),
    ("password a number", with_(password=12345), 400, "password"),
    ("login 1 MB", with_(login="l" * (1024 * 1024)), 413, "body"),
    ("login 321 chars", with_(login="l" * 321), 400, "login"),
    ("login two lines", with_(login="a\nb"), 400, "login"),
    ("login lone surrogate", '{"provider": "gmail.com", "login": "\\ud800", "password": "p"}', 400, "login"),
    ("login a list", with_(login=["a"]), 400, "login"),
    ("host empty", with_(host=""), 400, "host"),
    ("host 300 chars", with_(host="h" * 300), 400, "host"),
    ("host with a path", with_(host="imap.example.com/x"), 400, "host"),
    ("port abc", with_(port="abc"), 400, "port"),
    ("port -1", with_(port="-1"), 400, "port"),
    ("port 70000", with_(port=70000), 400, "port"),
    ("port 1e3", with_(port="1e3"), 400, "port"),
    ("port true", with_(port=True), 400, "port"),
    ("provider unknown", with_(provider="aol.com"), 400, "provider"),
    ("provider 1 KB", with_(provider="p" * 1024), 400, "provider"),
    ("folders python list text", with_(folders="['a', 'b']"), 400, "folders"),
    ("folders a number", with_(folders=5), 400, "folders"),
    ("folders 21 names", with_(folders=[f"f{i}" for i in range(21)]), 400, "folders"),
    ("folders name 1 MB", with_(folders=["f" * (1024 * 1024)]), 413, "body"),
    ("folders name 256 chars", with_(folders=["f" * 256]), 400, "folders"),
    ("folders name NUL", with_(folders=["a\x00"]), 400, "folders"),
    ("folders list of lists", with_(folders=[["a"]]), 400, "folders"),
    ("body deep JSON", '{"login": ' + "[" * 5000 + "]" * 5000 + "}", 400, "body"),
    ("body an array", "[1, 2]", 400, "body"),
    ("body not JSON", "{nope", 400, "body"),
]


def post_json(api, body):
    data = body if isinstance(body, str) else json.dumps(body)
    return requests.post(f"{api}/api/accounts", data=data.encode("utf-8", "surrogatepass"),
                         headers={"Content-Type": "application/json"}, timeout=60)


@pytest.mark.parametrize("name, body, status, field", CASES, ids=[c[0] for c in CASES])
def test_json_api_refuses_bad_fields_by_name(api, db, name, body, status, field):
    before = db("SELECT count(*) FROM mail_import.accounts")[0][0]
    response = post_json(api, body)
    got = response.json()
    print(f"\nBADINPUT mail_import | POST /api/accounts | {name} | {response.status_code} | field={got.get('field')}")
    assert (response.status_code, got.get("field")) == (status, field), response.text[:300]
    assert (got.get("error") or got.get("message")) and db("SELECT count(*) FROM mail_import.accounts")[0][0] == before


FORM_CASES = [
    ("password 1001 chars", {"password": "p" * 1001}, 400, "password", "password is longer than 1000"),
    ("login empty", {"login": ""}, 400, "login", "Enter the mailbox login"),
    ("port abc", {"port": "abc"}, 400, "port", "The port must be a number"),
    ("folders python list text", {"folders": "['a', 'b']"}, 400, "folders", "folders must be a list"),
    ("folders 21 lines", {"folders": "\n".join(f"f{i}" for i in range(21))}, 400, "folders", "at most 20"),
    ("form not UTF-8", b"login=%FF%FE&password=x", 400, "body", "The form could not be read"),
    ("form over 64 KB", {"password": "p" * (70 * 1024)}, 413, "body", "larger than 65536 bytes"),
]


@pytest.mark.parametrize("name, fields, status, field, words", FORM_CASES, ids=[c[0] for c in FORM_CASES])
def test_form_refuses_bad_fields_with_the_form_and_its_message(api, name, fields, status, field, words):
    data = fields if isinstance(fields, bytes) else dict(GOOD, **fields)
    response = requests.post(f"{api}/accounts", data=data, allow_redirects=False, timeout=60,
                             headers={"Accept-Language": "en", "Content-Type": "application/x-www-form-urlencoded"})
    print(f"\nBADINPUT mail_import | POST /accounts (form) | {name} | {response.status_code} | {words}")
    assert response.status_code == status and words in response.text, response.text[:500]
    assert response.headers["Content-Type"].startswith("text/html")


def test_the_form_error_is_russian_by_default(api):
    response = requests.post(f"{api}/accounts", data=dict(GOOD, password="p" * 1001), timeout=60)
    assert response.status_code == 400 and "password: длиннее 1000 символов" in response.text


def test_folders_arrive_as_a_list_of_names(api, db, dovecot):
    for folders, expected in ((["INBOX", " Sent "], ["INBOX", "Sent"]), ('["A", "B"]', ["A", "B"]),
                              ("INBOX\nКопии\n", ["INBOX", "Копии"]), ("[Gmail]/Sent Mail", ["[Gmail]/Sent Mail"])):
        # A mailbox whose login works (it is checked before anything is stored), a new one each time.
        response = post_json(api, dict(dovecot.new_mailbox("folders").account_input(), folders=folders))
        assert response.status_code == 201, response.text
        stored = db("SELECT folders FROM mail_import.accounts WHERE id = %s", response.json()["id"])[0][0]
        assert stored == expected
