"""Shared test helpers for notifications: JWT, settings, SQL shortcuts, HTTP API client."""
import json

import requests

from emulators.provider import issue_token
from waiting import wait_until  # noqa: F401 - the notifications tests import it from here

JWT_KEY = b"test-only-signing-key-not-a-secret-0123456789"
JWT = issue_token(JWT_KEY, subject="tests", now=1_900_000_000 - 3650 * 86400 + 10 ** 8)
OPERATOR = "operator"
PASSWORD = "correct horse battery staple"
FIRST_PASSWORD = "first operator's generated password"   # NotificationsOperatorPassword of the test cloud
TABLES = "notifications.messages, notifications.message_counts, notifications.mailings, notifications.clients, " \
         "notifications.tokens, notifications.operators, notifications.sign_in_attempts"


class Api:
    """requests against the API with a bearer token."""

    def __init__(self, base, token=None):
        self.base = base
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method, path, body=None, **kwargs):
        if body is not None:
            kwargs["data"] = json.dumps(body)
            kwargs.setdefault("headers", {})["Content-Type"] = "application/json"
        return self.session.request(method, self.base + path, timeout=30, **kwargs)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.call("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


def signed_in_page(chromium, base, locale):
    """(browser context, page) signed in to the admin page in the locale."""
    context = chromium.new_context(locale=locale)
    page = context.new_page()
    page.goto(base + "/admin")
    page.fill("input[name=username]", OPERATOR)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action$='/admin/login'] button")
    page.wait_for_selector("#new-client")
    return context, page


def add_clients(sql, rows):
    """rows: (phone, tag, timezone) -> ids, in order."""
    ids = []
    for phone, tag, zone in rows:
        ids.append(sql("INSERT INTO notifications.clients (phone, operator_code, tag, timezone) "
                       "VALUES (%s, %s, %s, %s) RETURNING id", phone, phone[1:4], tag, zone)[0][0])
    return ids


def add_mailing(start, end, text="Hello", codes=(), tags=(), window=None):
    """A mailing stored as the API stores it; returns its row dict."""
    from common import db
    from functions.notifications.chalicelib.mailings import store
    body = {"start": start.isoformat(), "end": end.isoformat(), "text": text,
            "filter": {"operator_codes": list(codes), "tags": list(tags)}}
    if window:
        body["window"] = {"start": window[0], "end": window[1]}
    with db.pg_transaction() as cur:
        return store.create(cur, body)


def messages(sql, mailing_id):
    """{client_id: (status, attempts, last_error)} of a mailing."""
    return {client: (status, attempts, error) for client, status, attempts, error in sql(
        "SELECT client_id, status, attempts, last_error FROM notifications.messages WHERE mailing_id = %s",
        mailing_id)}
