"""The shared pieces of the one dialect: errors mapped once per app, cookies, dict rows, queue sends, the one
base page. Each product uses these instead of a copy of its own (tests/foundation checks that)."""
import json
import random

import psycopg2
import pytest
from chalice import Blueprint, Chalice
from chalice.test import Client

from common import aws, cookies, i18n, queue, rows, web


# ---- web.map_errors ------------------------------------------------------------------------------

def _app():
    app, api = Chalice(app_name="dialect"), Blueprint(__name__)

    @api.route("/items/{item_id}")
    def item(item_id):
        raise web.bad_request("item_id must be a number", field="item_id")

    @app.route("/page")
    def page():
        raise web.not_found()

    @app.route("/bug")
    def bug():
        raise KeyError("internals")

    @app.route("/db")
    def database():
        raise psycopg2.OperationalError("server closed the connection unexpectedly")

    @app.route("/fine")
    def fine():
        return web.json_response({"ok": True})

    app.register_blueprint(api)
    return app


def test_map_errors_answers_every_route_once_json_by_default_pages_as_html():
    app = web.map_errors(_app(), render_page=lambda error: f"<p>{error.status} {error.text}</p>",
                         is_page=lambda path: path == "/page")
    with Client(app) as client:
        blueprint_route = client.http.get("/items/x")
        assert blueprint_route.status_code == 400
        assert json.loads(blueprint_route.body) == {"error": "item_id must be a number", "field": "item_id"}
        page = client.http.get("/page")
        assert page.status_code == 404 and page.body == b"<p>404 Not found</p>"
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
        bug = client.http.get("/bug")
        assert bug.status_code == 500 and json.loads(bug.body) == {"error": "Internal error"}
        lost = client.http.get("/db")
        assert lost.status_code == 503 and lost.headers["Retry-After"] == "1"
        assert json.loads(client.http.get("/fine").body) == {"ok": True}


def test_without_map_errors_chalice_would_leak_a_bare_500_for_app_errors():
    # The guard's reason: an AppError raised in a route Chalice runs unmapped is a 500, not its 400.
    with Client(_app()) as client:
        assert client.http.get("/items/x").status_code == 500


def test_map_errors_twice_wraps_once():
    app = _app()
    web.map_errors(app)
    view = app.routes["/bug"]["GET"].view_function
    web.map_errors(app)
    assert app.routes["/bug"]["GET"].view_function is view


# ---- cookies -------------------------------------------------------------------------------------

def test_cookies_are_http_only_lax_and_secure_only_behind_https():
    plain = cookies.set_cookie({"host": "127.0.0.1"}, "session", "abc", max_age=60)
    assert plain == "session=abc; Path=/; Max-Age=60; HttpOnly; SameSite=Lax"
    secure = cookies.set_cookie({"x-forwarded-proto": "https, http"}, "session", "abc")
    assert secure.endswith("; Secure") and "Max-Age" not in secure
    assert cookies.clear({}, "session", path="/app") == "session=; Path=/app; Max-Age=0; HttpOnly; SameSite=Lax"


def test_cookies_read_from_headers_or_a_request_and_survive_garbage():
    class Request:
        headers = {"cookie": "a=1; session=tok"}
    assert cookies.read(Request(), "session") == "tok"
    assert cookies.read({"cookie": "a=1"}, "session") is None
    assert cookies.jar({"cookie": "a=1; b"}) == {}         # SimpleCookie refuses the whole header: no cookies
    assert cookies.jar({}) == {}


# ---- rows ----------------------------------------------------------------------------------------

def test_rows_map_columns_by_name_on_postgres(pg_url):
    with psycopg2.connect(pg_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT 1 AS id, 'a' AS name UNION ALL SELECT 2, 'b' ORDER BY 1")
        assert rows.one(cur) == {"id": 1, "name": "a"}
        assert rows.all(cur) == [{"id": 2, "name": "b"}]
        assert rows.one(cur) is None


def test_rows_map_columns_by_name_on_mysql(mysql_url):
    from common import db
    conn = db.mysql_connect(mysql_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 AS id, 'Пётр' AS name")
            assert rows.all(cur) == [{"id": 1, "name": "Пётр"}]
    finally:
        conn.close()


# ---- queue ---------------------------------------------------------------------------------------

@pytest.fixture
def queue_url(aws_endpoint):
    name = f"dialect-{random.randrange(10**9)}"
    url = aws.client("sqs").create_queue(QueueName=name)["QueueUrl"]
    yield url
    aws.client("sqs").delete_queue(QueueUrl=url)


def _drain(url, expected):
    seen = []
    sqs = aws.client("sqs")
    for _ in range(20):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        seen += [json.loads(m["Body"]) for m in got]
        if len(seen) >= expected:
            break
    return seen


def test_send_all_puts_every_message_on_a_real_queue(queue_url):
    messages = [(n, {"n": n, "text": "Привет"}, 0) for n in range(25)]
    assert queue.send_all(queue_url, messages) == {}
    assert sorted(m["n"] for m in _drain(queue_url, 25)) == list(range(25))
    queue.send(queue_url, {"n": 99})
    assert _drain(queue_url, 1) == [{"n": 99}]


class FlakySqs:
    """SendMessageBatch that reports some entries Failed a number of times."""

    def __init__(self, fail_times, sender_fault=False):
        self.fail_times, self.sender_fault, self.calls, self.sent = fail_times, sender_fault, 0, []

    def send_message_batch(self, QueueUrl, Entries):
        self.calls += 1
        if self.calls <= self.fail_times:
            return {"Failed": [{"Id": e["Id"], "Code": "InternalError", "SenderFault": self.sender_fault}
                               for e in Entries[:1]],
                    "Successful": [{"Id": e["Id"]} for e in Entries[1:]]}
        self.sent += Entries
        return {"Successful": [{"Id": e["Id"]} for e in Entries]}


def test_failed_entries_are_sent_again_after_a_jittered_bounded_wait():
    sqs, waits = FlakySqs(fail_times=2), []
    assert queue.send_all("q", [("a", "x", 0), ("b", "y", 5)], sqs=sqs, sleep=waits.append) == {}
    assert sqs.calls == 3 and len(waits) == 2
    assert all(0 <= w <= queue.BACKOFF_CAP for w in waits)
    assert [e["MessageBody"] for e in sqs.sent] == ["x"]   # only the failed entry went again


def test_retries_are_bounded_and_the_caller_gets_the_reason():
    sqs = FlakySqs(fail_times=100)
    failed = queue.send_all("q", [("a", "x", 0)], sqs=sqs, sleep=lambda s: None)
    assert failed == {"a": "InternalError"} and sqs.calls == queue.ATTEMPTS
    with pytest.raises(queue.SendError) as raised:
        queue.send_all("q", [("a", "x", 0)], sqs=FlakySqs(fail_times=100), sleep=lambda s: None, strict=True)
    assert raised.value.failed == {"a": "InternalError"}


def test_a_sender_fault_is_not_sent_again():
    sqs = FlakySqs(fail_times=100, sender_fault=True)
    assert queue.send_all("q", [("a", "x", 0)], sqs=sqs, sleep=lambda s: None) == {"a": "InternalError"}
    assert sqs.calls == 1


def test_backoff_is_full_jitter_under_the_cap():
    rng = random.Random(7)
    waits = [queue.backoff(attempt, rng) for attempt in range(1, 12) for _ in range(20)]
    assert max(waits) <= queue.BACKOFF_CAP and min(waits) >= 0 and len(set(waits)) > 100


# ---- the one base page -----------------------------------------------------------------------------

def test_a_product_page_extends_the_common_base_and_gets_the_one_stylesheet(tmp_path):
    (tmp_path / "hello.html").write_text(
        '{% extends "common/base.html" %}{% block product %}Продукт{% endblock %}'
        '{% block main %}<p class="card">{{ text }}</p>{% endblock %}')
    html = i18n.Pages(tmp_path).render("hello.html", "ru", base="/prod", text="<b>")
    assert '<html lang="ru">' in html and 'href="/prod/"' in html and ">Продукт</a>" in html
    assert ".card {" in html and "<style>" in html          # the stylesheet inlined, no external request
    assert "&lt;b&gt;" in html                              # values still escaped


def test_decode_reads_a_json_object_and_refuses_anything_else():
    assert queue.decode('{"job": 1}') == {"job": 1}
    for text in ("", "not json", "[1]", "1", None):
        with pytest.raises(queue.BadMessage):
            queue.decode(text)


def test_received_gives_the_message_or_drops_an_unusable_one_with_a_log_line(monkeypatch):
    class Kind:
        def __init__(self, value):
            self.value = value

    def parse(text):
        value = queue.decode(text)
        if "n" not in value:
            raise queue.BadMessage("no n")
        return Kind(value["n"]) if value["n"] else "other kind"

    logged = []

    class Recorder:
        # the logger's own stream is bound when it is first made (maybe before this test): record the calls
        def error(self, message, **fields):
            logged.append((message, fields.get("message_id")))

    monkeypatch.setattr(queue, "_log", Recorder)
    assert queue.received({"body": '{"n": 5}'}, parse, Kind).value == 5
    assert queue.received({"body": "garbage", "messageId": "m-1"}, parse, Kind) is None
    assert queue.received({"body": '{"n": 0}', "messageId": "m-2"}, parse, Kind) is None
    assert queue.received({"body": '{"n": 0}'}, parse) == "other kind"       # no kinds: any message
    assert logged == [("dropping an unusable message", "m-1"), ("dropping a message of another queue", "m-2")]
