"""The API through the local cloud's HTTP gateway: flows, authorization on every endpoint, bad input."""
import uuid

import pytest
import requests


def send(http, sender, *recipients, subject=None, body="Hello"):
    response = http("POST", "/letters", sender, json={
        "to": [r.address for r in recipients], "subject": subject or f"s {uuid.uuid4().hex}", "body": body})
    assert response.status_code == 201, response.text
    return response.json()


def inbox_ids(http, owner, folder="inbox"):
    response = http("GET", f"/folders/{folder}", owner)
    assert response.status_code == 200, response.text
    return [letter["id"] for letter in response.json()["letters"]]


def assert_json_error(response, status, words=""):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert isinstance(error, str) and words in error
    return response.json()


def test_send_list_read_mark_delete(http, make_mailbox):
    alice, bob = make_mailbox("alice"), make_mailbox("bob")
    sent = send(http, alice, bob, subject="Lunch?", body="Noon at the usual place.\n\nA.")
    assert (sent["folder"], sent["from"], sent["to"], sent["read"]) == ("sent", alice.address, [bob.address], True)
    page = http("GET", "/folders/inbox", bob).json()
    assert page["unread"] == 1 and page["next_cursor"] is None
    [summary] = page["letters"]
    assert summary["snippet"] == "Noon at the usual place. A." and summary["read"] is False
    letter = http("GET", f"/letters/{summary['id']}", bob).json()
    assert letter["body"] == "Noon at the usual place.\n\nA." and letter["subject"] == "Lunch?"
    marked = http("PATCH", f"/letters/{summary['id']}", bob, json={"read": True})
    assert marked.status_code == 200 and marked.json()["read"] is True
    assert http("GET", "/folders/inbox?unread=true", bob).json() == {
        "folder": "inbox", "letters": [], "unread": 0, "next_cursor": None}
    assert http("GET", "/me", bob).json() == {"address": bob.address, "unread": 0}
    deleted = http("DELETE", f"/letters/{summary['id']}", bob)
    assert deleted.status_code == 204 and deleted.content == b""
    assert inbox_ids(http, bob) == []
    assert inbox_ids(http, alice, "sent") == [sent["id"]]


def test_both_key_headers_work_and_the_stage_prefix_is_accepted(http, make_mailbox):
    alice = make_mailbox("alice")
    for headers in ({"Authorization": f"Bearer {alice.key}"}, {"authorization": f"bearer {alice.key}"},
                    {"X-API-Key": alice.key}):
        response = http("GET", "/prod/me", headers=headers)
        assert response.status_code == 200 and response.json()["address"] == alice.address


def test_pages_follow_the_cursor(http, make_mailbox):
    alice, bob = make_mailbox("alice"), make_mailbox("bob")
    sent = [send(http, alice, bob)["subject"] for _ in range(5)]
    subjects, cursor = [], None
    while True:
        response = http("GET", "/folders/inbox", bob, params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        page = response.json()
        subjects += [letter["subject"] for letter in page["letters"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert subjects == sent[::-1]


ENDPOINTS = [
    ("POST", "/letters", {"to": ["x@example.com"], "subject": "s", "body": "b"}),
    ("GET", "/folders/inbox", None),
    ("GET", "/folders/sent?unread=true", None),
    ("GET", "/letters/{id}", None),
    ("PATCH", "/letters/{id}", {"read": True}),
    ("DELETE", "/letters/{id}", None),
    ("GET", "/me", None),
]


@pytest.mark.parametrize("method, path, body", ENDPOINTS)
@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong-key"}, {"X-API-Key": "wrong-key"}, {"Authorization": "Basic dXNlcjpwdw=="},
    {"Authorization": "Bearer "}, {"X-API-Key": "k" * 5000},
], ids=["none", "bad-bearer", "bad-x-api-key", "basic", "empty-bearer", "huge"])
def test_every_endpoint_needs_a_valid_key(http, make_mailbox, method, path, body, headers):
    alice, bob = make_mailbox("alice"), make_mailbox("bob")
    letter_id = send(http, alice, bob)["id"]
    response = http(method, path.format(id=letter_id), headers=headers, json=body)
    assert_json_error(response, 401, "API key")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert http("GET", f"/letters/{letter_id}", alice).json()["read"] is True     # untouched


@pytest.mark.parametrize("method, body", [("GET", None), ("PATCH", {"read": False}), ("DELETE", None)])
def test_other_mailboxes_letters_answer_404(http, make_mailbox, method, body):
    alice, bob, eve = make_mailbox("alice"), make_mailbox("bob"), make_mailbox("eve")
    sent_id = send(http, alice, bob)["id"]
    [bobs_id] = inbox_ids(http, bob)
    http("PATCH", f"/letters/{bobs_id}", bob, json={"read": True})
    for letter_id in (sent_id, bobs_id):
        assert_json_error(http(method, f"/letters/{letter_id}", eve, json=body), 404, "letter not found")
    assert http("GET", f"/letters/{bobs_id}", bob).json()["read"] is True
    assert http("GET", f"/letters/{sent_id}", alice).status_code == 200
    assert_json_error(http(method, "/letters/999999999999", eve, json=body), 404, "letter not found")


def test_unknown_recipients_are_named_and_nothing_is_stored(http, make_mailbox):
    alice, bob = make_mailbox("alice"), make_mailbox("bob")
    ghost = f"ghost.{uuid.uuid4().hex[:8]}@test.example"
    response = http("POST", "/letters", alice, json={"to": [bob.address, ghost], "subject": "s", "body": "b"})
    assert assert_json_error(response, 422, ghost)["unknown"] == [ghost]
    assert inbox_ids(http, bob) == [] and inbox_ids(http, alice, "sent") == []


BAD_SENDS = [
    ({"data": "{not json", "headers": {"Content-Type": "application/json"}}, 400, "not valid JSON"),
    ({"data": "", "headers": {"Content-Type": "application/json"}}, 400, "JSON object"),
    ({"json": ["a@example.com"]}, 400, "JSON object"),
    ({"json": {"to": ["a@example.com"], "subject": "s"}}, 400, "missing fields: body"),
    ({"json": {"to": "a@example.com", "subject": "s", "body": "b"}}, 400, "array"),
    ({"json": {"to": ["not-an-address"], "subject": "s", "body": "b"}}, 400, "valid email"),
    ({"json": {"to": ["a@example.com"], "subject": 7, "body": "b"}}, 400, "subject must be a string"),
    ({"json": {"to": ["a@example.com"], "subject": "s" * 999, "body": "b"}}, 400, "998"),
    ({"json": {"to": ["a@example.com"], "subject": "s", "body": "\u0000"}}, 400, "NUL"),
    ({"json": {"to": ["a@example.com"], "subject": "s", "body": "b" * (1024 * 1024 + 1)}}, 413, "exceeds"),
    ({"json": {"to": ["a@example.com"], "subject": "s", "body": "b", "bcc": []}}, 400, "unknown fields"),
    ({"data": '{"to": ["a@example.com"], "subject": "\\ud800", "body": "b"}',
      "headers": {"Content-Type": "application/json"}}, 400, "Unicode"),
    ({"data": "to=a@example.com", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 415,
     "media type"),
]


@pytest.mark.parametrize("request_kwargs, status, words", BAD_SENDS)
def test_bad_sends_get_a_json_4xx(http, make_mailbox, request_kwargs, status, words):
    alice = make_mailbox("alice")
    assert_json_error(http("POST", "/letters", alice, **request_kwargs), status, words)
    assert inbox_ids(http, alice, "sent") == []


@pytest.mark.parametrize("method, path, kwargs, status, words", [
    ("GET", "/folders/trash", {}, 404, "unknown folder"),
    ("GET", "/folders/inbox?cursor=garbage!", {}, 400, "invalid cursor"),
    ("GET", "/folders/inbox?cursor=MS41LjA", {}, 400, "invalid cursor"),
    ("GET", "/folders/inbox?limit=0", {}, 400, "limit"),
    ("GET", "/folders/inbox?limit=201", {}, 400, "limit"),
    ("GET", "/folders/inbox?limit=many", {}, 400, "limit"),
    ("GET", "/folders/inbox?unread=maybe", {}, 400, "unread"),
    ("GET", "/letters/abc", {}, 400, "id must be a whole number from 1 to"),
    ("GET", "/letters/0", {}, 400, "id must be a whole number from 1 to"),
    ("GET", "/letters/99999999999999999999", {}, 400, "id must be a whole number from 1 to"),
    ("DELETE", "/letters/-5", {}, 400, "id must be a whole number from 1 to"),
    ("PATCH", "/letters/1", {"json": {"read": "yes"}}, 400, "true or false"),
    ("PATCH", "/letters/1", {"json": {}}, 400, "missing fields: read"),
    ("PATCH", "/letters/1", {"data": "nope", "headers": {"Content-Type": "application/json"}}, 400, "JSON"),
    ("PATCH", "/letters/1", {"data": "x", "headers": {"Content-Type": "text/plain"}}, 415, "media type"),
    ("GET", "/api/doc/..%2F..%2Fapp.py", {}, 404, "no such documentation file"),
    ("GET", "/api/doc/index.html", {}, 404, "no such documentation file"),
])
def test_bad_requests_get_a_json_4xx(http, make_mailbox, method, path, kwargs, status, words):
    owner = make_mailbox("owner")
    response = http(method, path, owner, **kwargs)
    assert response.status_code == status, response.text
    if words:
        assert_json_error(response, status, words)


def test_openapi_and_swagger_ui_are_served_without_internet(http):
    spec = http("GET", "/api/openapi.json").json()
    assert spec["openapi"].startswith("3.") and "/letters/{id}" in spec["paths"]
    page = http("GET", "/api/doc")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "http" not in page.text.replace('href="data:,"', ""), "the page must not load anything remote"
    for asset, content_type in (("swagger-ui.css", "text/css"), ("swagger-ui-bundle.js", "application/javascript"),
                                ("swagger-ui-standalone-preset.js", "application/javascript")):
        assert f'"doc/{asset}"' in page.text
        response = http("GET", f"/api/doc/{asset}")
        assert response.status_code == 200 and response.headers["Content-Type"].startswith(content_type)
        assert len(response.content) > 10_000


def test_a_lost_database_is_a_json_503_and_the_docs_still_work(start_cloud):
    cloud = start_cloud(functions=["MailboxFunction"],
                        parameters={"DatabaseUrl": "postgresql://postgres@127.0.0.1:5432/mailbox_no_such_database"})
    base = cloud.api_url("MailboxApi")
    response = requests.get(base + "/folders/inbox", headers={"X-API-Key": "any"}, timeout=30)
    assert_json_error(response, 503, "Database unavailable")
    assert response.headers["Retry-After"] == "1"
    assert requests.get(base + "/api/openapi.json", timeout=30).status_code == 200
