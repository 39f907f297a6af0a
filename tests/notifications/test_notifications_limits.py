"""Size limits through the local cloud's gateway, each at its edge: a request just inside is served, one byte or
character more is refused (and would have been served without the limit)."""
import json
from datetime import datetime, timedelta, timezone

import requests

from common.passwords import api_key_digest
from functions.notifications.chalicelib.admin.forms import MAX_FORM
from functions.notifications.chalicelib.api.auth import MAX_TOKEN

from notifications_helpers import OPERATOR, PASSWORD, Api

JSON_HEADERS = {"Content-Type": "application/json"}


def padded_client(phone, size):
    """A valid new-client body, padded with JSON whitespace to exactly `size` bytes."""
    body = json.dumps({"phone": phone, "timezone": "Europe/Moscow"})
    return (body[:-1] + " " * (size - len(body)) + "}").encode()


def test_a_json_body_over_64_kb_is_refused_naming_the_body(api):
    from functions.notifications.chalicelib.routes.api import MAX_BODY
    assert MAX_BODY == 64 * 1024
    inside = api.post("/clients", data=padded_client("79161230001", MAX_BODY), headers=JSON_HEADERS)
    assert inside.status_code == 201, inside.text
    over = api.post("/clients", data=padded_client("79161230002", MAX_BODY + 1), headers=JSON_HEADERS)
    assert over.status_code == 413 and over.json()["field"] == "body" and "65536 bytes" in over.json()["error"]
    assert api.get("/clients").json()["items"][-1]["phone"] == "79161230001"      # nothing created by the refusal


def _login_form(size):
    """The admin sign-in form with the right credentials, padded by an extra field to exactly `size` bytes."""
    form = f"username={OPERATOR}&password={PASSWORD}&pad="
    return (form + "x" * (size - len(form))).encode()


def test_an_admin_form_over_16_kb_is_refused(cloud, clean):
    assert MAX_FORM == 16 * 1024
    url = cloud.api_url("NotificationsApi") + "/admin/login"
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept-Language": "en"}
    inside = requests.post(url, data=_login_form(MAX_FORM), headers=headers, allow_redirects=False, timeout=30)
    assert inside.status_code == 303 and "notifications_token=" in inside.headers["Set-Cookie"]
    over = requests.post(url, data=_login_form(MAX_FORM + 1), headers=headers, allow_redirects=False, timeout=30)
    assert over.status_code == 413 and "16384 bytes" in over.text
    assert "Set-Cookie" not in over.headers


def _stored_token(sql, length):
    """A token of `length` ASCII characters stored (as its digest) for the operator, valid for an hour."""
    token = ("t" * length)[:length]
    operator_id = sql("SELECT id FROM notifications.operators WHERE username = %s", OPERATOR)[0][0]
    sql("INSERT INTO notifications.tokens (digest, operator_id, expires_at) VALUES (%s, %s, %s)",
        api_key_digest(token), operator_id, datetime.now(timezone.utc) + timedelta(hours=1))
    return token


def test_a_token_over_256_characters_is_never_looked_up(cloud, clean, sql):
    """Even a longer token whose digest is in the table is refused: the limit comes before the hashing."""
    assert MAX_TOKEN == 256
    base = cloud.api_url("NotificationsApi")
    assert Api(base, _stored_token(sql, MAX_TOKEN)).get("/clients").status_code == 200
    over = Api(base, _stored_token(sql, MAX_TOKEN + 1)).get("/clients")
    assert over.status_code == 401 and "token" in over.json()["error"]
