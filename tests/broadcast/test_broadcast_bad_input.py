"""Every field of the broadcast site refused with 400 (413 when too large) naming it, through the gateway:
the form (its page marks the field), the page numbers, the webhook's JSON. Nothing is stored or sent."""
import json

import pytest
import requests

from broadcast_helpers import SECRET, basic, csrf

FORM = {"Content-Type": "application/x-www-form-urlencoded", "Accept-Language": "en"}
GOOD = {"text": "Hello", "numbers": "+79991234567"}

FORM_CASES = [
    ("text empty", {"text": ""}, 400, "text"),
    ("text 4097 chars", {"text": "x" * 4097}, 400, "text"),
    ("text NUL", {"text": "a\x00b"}, 400, "text"),
    ("numbers empty", {"numbers": ""}, 400, "numbers"),
    ("numbers not phones", {"numbers": "hello; 12"}, 400, "numbers"),
    ("numbers 10,001", {"numbers": "\n".join(f"+7999{i:07d}" for i in range(10001))}, 400, "numbers"),
    ("numbers 400,001 chars", {"numbers": "1" * 400001}, 413, "numbers"),
]


@pytest.mark.parametrize("name, fields, status, field", FORM_CASES, ids=[c[0] for c in FORM_CASES])
def test_the_form_refuses_bad_fields_and_marks_them(site, emulator, sql, name, fields, status, field):
    data = dict(GOOD, csrf=csrf(site), **fields)
    response = requests.post(site + "/broadcasts", data=data, headers=dict(FORM, Authorization=basic()),
                             allow_redirects=False, timeout=60)
    print(f"\nBADINPUT broadcast | POST /broadcasts (form) | {name} | {response.status_code} | field={field}")
    assert response.status_code == status and f'data-field="{field}"' in response.text, response.text[:300]
    assert "Nothing was sent." in response.text and sql("SELECT COUNT(*) AS n FROM broadcasts")[0]["n"] == 0


RAW_CASES = [
    ("form not UTF-8", "POST", "/broadcasts", b"text=%FF&numbers=1", FORM, 400, "form"),
    ("form lone surrogate", "POST", "/broadcasts", b"text=%ED%A0%80&numbers=1", FORM, 400, "form"),
    ("form 21 fields", "POST", "/broadcasts", "&".join(f"f{i}=1" for i in range(21)).encode(), FORM, 400, "form"),
    ("list page=-1", "GET", "/?page=-1", None, {}, 400, "page"),
    ("list page=abc", "GET", "/?page=abc", None, {}, 400, "page"),
    ("broadcast page=0", "GET", "/broadcasts/1?page=0", None, {}, 400, "page"),
    ("broadcast page=10^20", "GET", "/broadcasts/1?page=" + "9" * 20, None, {}, 400, "page"),
]


@pytest.mark.parametrize("name, method, path, body, headers, status, field", RAW_CASES,
                         ids=[c[0] for c in RAW_CASES])
def test_unreadable_forms_and_page_numbers_are_refused(site, emulator, name, method, path, body, headers, status,
                                                       field):
    response = requests.request(method, site + path, data=body, timeout=60,
                                headers=dict(headers, Authorization=basic(), **{"Accept-Language": "en"}))
    print(f"\nBADINPUT broadcast | {method} {path[:30]} | {name} | {response.status_code} | field={field}")
    assert response.status_code == status and "Traceback" not in response.text, response.text[:300]
    assert response.headers["Content-Type"].startswith("text/html")
    if field == "page":
        assert "page must be a whole number from 1 to 100000." in response.text


HOOK_CASES = [
    ("deep JSON", '{"data": ' + "[" * 5000 + "]" * 5000 + "}", 400, "body"),
    ("9 levels", '{"data": [[[[[[[["x"]]]]]]]]}', 400, "body"),
    ("not JSON", "{nope", 400, "body"),
    ("an array", "[]", 400, "body"),
    ("data not a list", '{"data": "x"}', 400, "data"),
    ("1001 events", json.dumps({"data": [{"id": "x", "type": "sent"}] * 1001}), 400, "data"),
    ("over 1 MB", json.dumps({"data": [], "pad": "x" * (1024 * 1024)}), 413, "body"),
    # Unusable events are ignored, as unknown ids are (ChatApp must not retry them forever).
    ("lone surrogate id", '{"data": [{"id": "\\ud800", "type": "sent"}]}', 200, None),
    ("lone surrogate error", '{"data": [{"id": "x", "type": "failed", "error": "\\udfff"}]}', 200, None),
    ("NUL id", '{"data": [{"id": "a\\u0000", "type": "sent"}]}', 200, None),
]


@pytest.mark.parametrize("name, body, status, field", HOOK_CASES, ids=[c[0] for c in HOOK_CASES])
def test_the_webhook_refuses_bad_json_naming_the_field(site, emulator, name, body, status, field):
    response = requests.post(f"{site}/webhooks/chatapp?secret={SECRET}", data=body.encode(), timeout=60,
                             headers={"Content-Type": "application/json"})
    print(f"\nBADINPUT broadcast | POST /webhooks/chatapp | {name} | {response.status_code} | "
          f"field={response.json().get('field')}")
    assert (response.status_code, response.json().get("field")) == (status, field), response.text[:300]
