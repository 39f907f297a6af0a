"""The JSON API through the local cloud: token auth, clients and mailings with their rules, 4xx naming the
field, what may change once a mailing has started, schedules created, moved and deleted."""
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from notifications_helpers import OPERATOR, PASSWORD, Api

UTC = timezone.utc


def iso(moment):
    return moment.isoformat()


def test_every_call_needs_a_valid_token(cloud, clean):
    anonymous = Api(cloud.api_url("NotificationsApi"))
    for method, path in (("GET", "/clients"), ("GET", "/mailings"), ("GET", "/stats"), ("GET", "/clients/1"),
                         ("DELETE", "/mailings/1"), ("GET", "/mailings/1/stats")):
        answer = anonymous.call(method, path)
        assert answer.status_code == 401 and "token" in answer.json()["error"], (method, path)
    assert Api(cloud.api_url("NotificationsApi"), "forged").get("/clients").status_code == 401
    wrong = anonymous.post("/auth", {"username": OPERATOR, "password": "wrong"})
    unknown = anonymous.post("/auth", {"username": "nobody", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401 and wrong.json() == unknown.json()
    assert anonymous.post("/auth", {"username": OPERATOR}).json()["field"] == "password"
    assert anonymous.post("/auth", {"username": "a\x00", "password": "x"}).json()["field"] == "username"


def test_an_expired_token_is_refused(api, sql):
    from common.passwords import api_key_digest
    assert api.get("/clients").status_code == 200
    token = api.session.headers["Authorization"].split()[1]
    # This token alone: any other session's tokens stay as they were.
    assert sql("UPDATE notifications.tokens SET expires_at = now() - interval '1 second' WHERE digest = %s",
               api_key_digest(token)) == 1
    assert api.get("/clients").status_code == 401


def test_tokens_are_stored_only_as_digests(api, sql):
    token = api.session.headers["Authorization"].split()[1]
    assert sql("SELECT count(*) FROM notifications.tokens WHERE digest = %s", token)[0][0] == 0
    assert sql("SELECT count(*) FROM notifications.tokens")[0][0] == 1


def test_client_crud_and_validation(api):
    created = api.post("/clients", {"phone": "79161234567", "tag": "vip", "timezone": "Asia/Yekaterinburg"})
    assert created.status_code == 201
    client = created.json()
    assert client["operator_code"] == "916" and client["tag"] == "vip"
    assert api.get(f"/clients/{client['id']}").json() == client
    assert api.post("/clients", {"phone": "79161234567", "timezone": "Europe/Moscow"}).status_code == 409
    bad = {
        "phone": {"phone": "89161234567", "timezone": "Europe/Moscow"},
        "timezone": {"phone": "79161234568", "timezone": "Mars/Olympus"},
        "operator_code": {"phone": "79161234568", "timezone": "Europe/Moscow", "operator_code": "90"},
        "tag": {"phone": "79161234568", "timezone": "Europe/Moscow", "tag": "x" * 65},
        "colour": {"phone": "79161234568", "timezone": "Europe/Moscow", "colour": "red"},
    }
    for field, body in bad.items():
        answer = api.post("/clients", body)
        assert answer.status_code == 400 and answer.json()["field"] == field, (field, answer.text)
    assert api.post("/clients", {"timezone": "Europe/Moscow"}).json()["field"] == "phone"
    changed = api.patch(f"/clients/{client['id']}", {"phone": "79031234567"}).json()
    assert changed["operator_code"] == "903" and changed["timezone"] == "Asia/Yekaterinburg"
    assert api.patch(f"/clients/{client['id']}", {"operator_code": "9x6"}).status_code == 400
    page = api.get("/clients?limit=1").json()
    assert [c["id"] for c in page["items"]] == [client["id"]] and page["next_after"] == client["id"]
    assert api.get(f"/clients?after={client['id']}").json() == {"items": [], "next_after": None}
    assert api.delete(f"/clients/{client['id']}").status_code == 204
    assert api.get(f"/clients/{client['id']}").status_code == 404
    assert api.get("/clients/abc").json()["field"] == "id"
    assert api.get("/clients?limit=0").json()["field"] == "limit"
    bad_json = api.session.post(api.base + "/clients", data="{", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400 and "JSON" in bad_json.json()["error"]


def test_operator_code_is_derived_unless_given_and_a_ported_number_keeps_its_own(api):
    derived = api.post("/clients", {"phone": "79161234567", "timezone": "Europe/Moscow"}).json()
    assert derived["operator_code"] == "916"
    ported = api.post("/clients", {"phone": "79161234568", "timezone": "Europe/Moscow", "operator_code": "903"})
    assert ported.status_code == 201 and ported.json()["operator_code"] == "903"
    ported_id = ported.json()["id"]
    assert api.patch(f"/clients/{ported_id}", {"tag": "vip"}).json()["operator_code"] == "903"   # kept
    assert api.patch(f"/clients/{derived['id']}", {"operator_code": "999"}).json()["operator_code"] == "999"
    moved = api.patch(f"/clients/{ported_id}", {"phone": "79261234568"}).json()
    assert moved["operator_code"] == "926"                       # a new number without a code: its own
    answer = api.post("/clients", {"phone": "79161234569", "timezone": "Europe/Moscow", "operator_code": "9031"})
    assert answer.status_code == 400 and answer.json()["field"] == "operator_code"


def schedule(cloud, mailing_id):
    client = boto3.client("scheduler", region_name="us-east-1")
    name = f"{cloud.stack_name}-mailing-{mailing_id}"
    try:
        return client.get_schedule(Name=name)
    except client.exceptions.ResourceNotFoundException:
        return None


def test_mailing_validation_names_the_field(api):
    now = datetime.now(UTC)
    good = {"start": iso(now + timedelta(hours=1)), "end": iso(now + timedelta(hours=2)), "text": "Hi"}
    cases = [
        ("start", dict(good, start="2030-01-01T10:00:00")),                  # no offset
        ("start", dict(good, start="20300101T100000+0300")),                 # not RFC 3339
        ("end", dict(good, end=iso(now))),                                   # before the start
        ("text", dict(good, text="   ")),
        ("filter.operator_codes", dict(good, filter={"operator_codes": ["91"]})),
        ("filter.tags", dict(good, filter={"tags": "vip"})),
        ("window", dict(good, window={"start": "09:00", "end": "09:00"})),
        ("window.end", dict(good, window={"start": "09:00", "end": "25:00"})),
        ("colour", dict(good, colour="red")),
        ("filter.tags", dict(good, filter={"tags": ["a\x00b"]})),
    ]
    for field, body in cases:
        answer = api.post("/mailings", body)
        assert answer.status_code == 400 and answer.json()["field"] == field, (field, answer.text)
    assert api.post("/mailings", {k: v for k, v in good.items() if k != "text"}).json()["field"] == "text"


def test_any_rfc_3339_offset_is_taken_even_beyond_what_postgresql_reads(api):
    """RFC 3339 offsets go up to 23:59; PostgreSQL reads at most 15:59 (schemathesis found the 500)."""
    body = {"start": "2142-05-19T09:00:00+19:16", "end": "2142-05-19T22:11:01-19:16", "text": "Hi"}
    answer = api.post("/mailings", body)
    assert answer.status_code == 201, answer.text
    stored = api.get(f"/mailings/{answer.json()['id']}").json()
    assert datetime.fromisoformat(stored["start"]) == datetime(2142, 5, 18, 13, 44, tzinfo=UTC)
    assert datetime.fromisoformat(stored["end"]) == datetime(2142, 5, 20, 17, 27, 1, tzinfo=UTC)
    assert api.delete(f"/mailings/{answer.json()['id']}").status_code == 204


def test_a_future_mailing_gets_a_one_off_schedule_moved_with_it_and_deleted_with_it(api, cloud):
    now = datetime.now(UTC).replace(microsecond=0)
    start = now + timedelta(days=1)
    created = api.post("/mailings", {"start": iso(start), "end": iso(start + timedelta(hours=5)), "text": "Hi",
                                     "filter": {"tags": ["vip"]}, "window": {"start": "22:00", "end": "06:00"}})
    assert created.status_code == 201, created.text
    mailing = created.json()
    assert mailing["state"] == "scheduled" and mailing["window"] == {"start": "22:00", "end": "06:00"}
    found = schedule(cloud, mailing["id"])
    assert found["ScheduleExpression"] == f"at({start.strftime('%Y-%m-%dT%H:%M:%S')})"
    assert found["ActionAfterCompletion"] == "DELETE"
    assert found["Target"]["Arn"] == cloud.stack.resolver.attrs["NotificationsDispatchFunction"]["Arn"]
    assert found["Target"]["Input"] == f'{{"mailing_id": {mailing["id"]}}}'

    moved = start + timedelta(hours=2)
    answer = api.patch(f"/mailings/{mailing['id']}", {"start": iso(moved)})
    assert answer.status_code == 200 and answer.json()["start"] == iso(moved)
    assert schedule(cloud, mailing["id"])["ScheduleExpression"] == f"at({moved.strftime('%Y-%m-%dT%H:%M:%S')})"
    assert api.patch(f"/mailings/{mailing['id']}", {"start": iso(start + timedelta(hours=6))}).json()["field"] == "end"

    assert api.delete(f"/mailings/{mailing['id']}").status_code == 204
    assert schedule(cloud, mailing["id"]) is None
    assert api.get(f"/mailings/{mailing['id']}").status_code == 404


def test_once_started_only_end_and_text_may_change_and_it_cannot_be_deleted_while_running(api, sql):
    now = datetime.now(UTC)
    mailing = api.post("/mailings", {"start": iso(now + timedelta(hours=1)), "end": iso(now + timedelta(hours=3)),
                                     "text": "Hi"}).json()
    sql("UPDATE notifications.mailings SET start_at = now() - interval '1 minute', dispatch_state = 'done' "
        "WHERE id = %s", mailing["id"])
    for field, value in (("start", iso(now)), ("filter", {"tags": ["x"]}), ("window", None)):
        answer = api.patch(f"/mailings/{mailing['id']}", {field: value})
        assert answer.status_code == 409 and answer.json()["field"] == field
    assert api.patch(f"/mailings/{mailing['id']}", {"text": "New text"}).json()["text"] == "New text"
    assert api.delete(f"/mailings/{mailing['id']}").status_code == 409
    stopped = api.patch(f"/mailings/{mailing['id']}", {"end": iso(datetime.now(UTC))})
    assert stopped.status_code == 200
    assert api.delete(f"/mailings/{mailing['id']}").status_code == 204


def test_docs_are_served_offline(cloud):
    base = cloud.api_url("NotificationsApi")
    anonymous = Api(base)
    spec = anonymous.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.") and "/mailings/{id}/stats" in spec["paths"]
    page = anonymous.get("/docs")
    assert page.status_code == 200 and 'src="docs/swagger-ui-bundle.js"' in page.text
    assert "Content-Security-Policy" in page.headers
    assert anonymous.get("/docs/swagger-ui-bundle.js").status_code == 200
    assert anonymous.get("/docs/secret.txt").status_code == 404


@pytest.mark.parametrize("path", ["/prod/clients"])
def test_the_stage_prefix_works_too(api, path):
    assert api.get(path).status_code == 200
