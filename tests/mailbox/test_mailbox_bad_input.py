"""Every field of every mailbox endpoint refused with 400 (413 when too large) naming it, through the gateway.

The rows are the hostile inputs that once gave 503s (deep JSON, NUL, lone surrogates, limit=-1) and the
bounds of each field; printed as a table (pytest -s) for the notes.
"""
import json

import pytest

DEEP = '{"read": ' + "[" * 5000 + "]" * 5000 + "}"
GOOD = {"to": None, "subject": "Hi", "body": "Hello"}


def letter(recipient, **fields):
    return json.dumps(dict(GOOD, to=[recipient.address], **fields))


# (name, method, path, raw body or None, expected status, expected field)
CASES = [
    ("send: body not JSON", "POST", "/letters", lambda r: "{nope", 400, "body"),
    ("send: body an array", "POST", "/letters", lambda r: "[1]", 400, "body"),
    ("send: deep JSON", "POST", "/letters", lambda r: '{"to": ' + "[" * 5000 + "]" * 5000 + "}", 400, "body"),
    ("send: JSON 5 levels", "POST", "/letters", lambda r: '{"to": [[[[["a"]]]]]}', 400, "body"),
    ("send: body over 8 MB", "POST", "/letters", lambda r: '{"body": "' + "x" * (8 * 1024 * 1024) + '"}', 413,
     "body"),
    ("send: unknown field", "POST", "/letters", lambda r: letter(r, cc=["x@example.com"]), 400, "cc"),
    ("send: missing subject", "POST", "/letters", lambda r: json.dumps({"to": [r.address], "body": "b"}), 400,
     "subject"),
    ("send: to not a list", "POST", "/letters", lambda r: json.dumps(dict(GOOD, to=r.address)), 400, "to"),
    ("send: to 101 addresses", "POST", "/letters",
     lambda r: json.dumps(dict(GOOD, to=[f"u{i}@example.com" for i in range(101)])), 400, "to"),
    ("send: to not an address", "POST", "/letters", lambda r: json.dumps(dict(GOOD, to=["nope"])), 400, "to[]"),
    ("send: subject NUL", "POST", "/letters", lambda r: letter(r, subject="a\x00b"), 400, "subject"),
    ("send: subject lone surrogate", "POST", "/letters", lambda r: letter(r).replace('"Hi"', '"a\\ud800"'), 400,
     "subject"),
    ("send: subject 999 chars", "POST", "/letters", lambda r: letter(r, subject="s" * 999), 400, "subject"),
    ("send: subject two lines", "POST", "/letters", lambda r: letter(r, subject="a\nb"), 400, "subject"),
    ("send: subject a number", "POST", "/letters", lambda r: letter(r, subject=5), 400, "subject"),
    ("send: body NUL", "POST", "/letters", lambda r: letter(r, body="a\x00b"), 400, "body"),
    ("send: body lone surrogate", "POST", "/letters", lambda r: letter(r).replace('"Hello"', '"\\udfff"'), 400,
     "body"),
    ("send: body over 1 MiB", "POST", "/letters", lambda r: letter(r, body="é" * (512 * 1024 + 1)), 413, "body"),
    ("list: limit=-1", "GET", "/folders/inbox?limit=-1", None, 400, "limit"),
    ("list: limit=0", "GET", "/folders/inbox?limit=0", None, 400, "limit"),
    ("list: limit=201", "GET", "/folders/inbox?limit=201", None, 400, "limit"),
    ("list: limit=1e3", "GET", "/folders/inbox?limit=1e3", None, 400, "limit"),
    ("list: limit NUL", "GET", "/folders/inbox?limit=%00", None, 400, "limit"),
    ("list: unread=maybe", "GET", "/folders/inbox?unread=maybe", None, 400, "unread"),
    ("list: cursor garbage", "GET", "/folders/inbox?cursor=%ED%A0%80", None, 400, "cursor"),
    ("list: cursor too long", "GET", "/folders/inbox?cursor=" + "A" * 100, None, 400, "cursor"),
    ("get: id -1", "GET", "/letters/-1", None, 400, "id"),
    ("get: id 2^63", "GET", f"/letters/{2 ** 63}", None, 400, "id"),
    ("get: id with NUL", "GET", "/letters/1%00", None, 400, "id"),
    ("mark: read a string", "PATCH", "/letters/1", lambda r: '{"read": "yes"}', 400, "read"),
    ("mark: deep JSON", "PATCH", "/letters/1", lambda r: DEEP, 400, "body"),
    ("mark: unknown field", "PATCH", "/letters/1", lambda r: '{"read": true, "x\\u0000": 1}', 400, "x\x00"),
    ("delete: id abc", "DELETE", "/letters/abc", None, 400, "id"),
]


@pytest.mark.parametrize("name, method, path, body, status, field", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_naming_the_field(http, make_mailbox, name, method, path, body, status, field):
    me = make_mailbox("hostile")
    data = body(me).encode("utf-8", "surrogatepass") if body else None
    headers = {"Content-Type": "application/json"} if data is not None else {}
    response = http(method, path, me, data=data, headers=headers)
    got = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else {}
    print(f"\nBADINPUT mailbox | {name} | {method} {path[:40]} | {response.status_code} | field={got.get('field')}")
    assert (response.status_code, got.get("field")) == (status, field), response.text[:300]
    assert got["error"]


def test_the_same_mailbox_still_works_after_the_hostile_inputs(http, make_mailbox):
    me = make_mailbox("after")
    sent = http("POST", "/letters", me, data=letter(me), headers={"Content-Type": "application/json"})
    assert sent.status_code == 201 and http("GET", "/folders/inbox?limit=1", me).status_code == 200
