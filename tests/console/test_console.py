"""The console in headless Chromium against a running local cloud (tests/console/template.yaml): what it
shows is checked against SQS, moto's SES record and the database the functions write to."""
import json
import re
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import boto3
import psycopg2
import pytest
import requests
from playwright.sync_api import expect
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from localcloud import sites
from localcloud.console import Console
from localcloud.console.server import QUEUE_WATCH_INTERVAL, Request
from localcloud.testing import sent_email
from waiting import wait_until

TEMPLATE = Path(__file__).resolve().parent / "template.yaml"
WAIT_MS = 20000


@pytest.fixture(scope="module")
def db(pg_url):
    conn = psycopg2.connect(pg_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE SCHEMA IF NOT EXISTS console_test")
        cur.execute("DROP TABLE IF EXISTS console_test.switch, console_test.jobs, console_test.fires")
        cur.execute("CREATE TABLE console_test.switch (failing boolean NOT NULL)")
        cur.execute("INSERT INTO console_test.switch VALUES (false)")
        cur.execute("CREATE TABLE console_test.jobs (body text, request_id text)")
        cur.execute("CREATE TABLE console_test.fires (rule text)")
    yield conn
    conn.close()


def query(db, sql, *params):
    with db.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


@pytest.fixture(scope="module")
def stack(start_cloud, db):
    before = datetime.now(timezone.utc)
    cloud = start_cloud(template=TEMPLATE)
    after = datetime.now(timezone.utc)
    # On a fresh machine a function's first invocation installs its requirements (pip, tens of seconds):
    # done here, so the live views' waits measure the console, not pip.
    for pool in cloud.runtime.pools.values() if cloud.isolated else ():
        sites.function_site(pool.fn.code_dir, pool.fn.layer_dirs, pool.fn.logical_id)
    console = Console(cloud).start()
    yield cloud, console, (before, after)
    console.stop()


@pytest.fixture(scope="module")
def page(chromium):
    yield chromium.new_page()


def sqs_counts(cloud, logical_id):
    attrs = boto3.client("sqs").get_queue_attributes(QueueUrl=cloud.physical_id(logical_id),
                                                     AttributeNames=["All"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"])


def test_dead_letter_message_shown_live_then_redriven_and_processed(stack, page, db):
    cloud, console, _ = stack
    # Other tests of this module may have invoked JobFunction before (the order is shuffled): count from here.
    page.goto(console.url + "/functions/JobFunction")
    invocations, errors = (int(page.locator(f"p .{kind}").inner_text()) for kind in ("invocations", "errors"))
    query(db, "UPDATE console_test.switch SET failing = true RETURNING failing")
    page.goto(console.url + "/queues")
    expect(page.locator("#live")).to_contain_text("live", timeout=WAIT_MS)
    dlq_cell = page.locator("tr[data-queue=JobsQueue] .dlq-depth")
    expect(dlq_cell).to_have_text("0")

    boto3.client("sqs").send_message(QueueUrl=cloud.physical_id("JobsQueue"), MessageBody="job-A")
    # no reload: the page updates itself when the message lands in the DLQ
    expect(dlq_cell).to_have_text("1", timeout=WAIT_MS)
    assert sqs_counts(cloud, "JobsDlq") == (1, 0)
    assert sqs_counts(cloud, "JobsQueue") == (0, 0)
    expect(page.locator("tr[data-queue=JobsDlq] .visible")).to_have_text("1")

    page.click("text=JobsDlq >> nth=0")
    expect(page.locator("h1")).to_have_text("JobsDlq")
    expect(page.locator("tr.message .body")).to_have_text("job-A")
    assert sqs_counts(cloud, "JobsDlq") == (1, 0), "peeking must not receive the message"

    query(db, "UPDATE console_test.switch SET failing = false RETURNING failing")
    page.click("#redrive")
    expect(page.locator(".flash")).to_contain_text("1 message(s) moved back")
    rows = wait_until(lambda: query(db, "SELECT request_id FROM console_test.jobs WHERE body = 'job-A'"),
                      what="the redriven job in the database")
    assert sqs_counts(cloud, "JobsDlq") == (0, 0)
    wait_until(lambda: sqs_counts(cloud, "JobsQueue") == (0, 0), what="the job deleted from JobsQueue")

    page.goto(console.url + "/functions/JobFunction")
    expect(page.locator("p .invocations")).to_have_text(str(invocations + 2))
    expect(page.locator("p .errors")).to_have_text(str(errors + 1))
    failed = page.locator("tr.invocation", has_text="job job-A failed on purpose")
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("RuntimeError")
    failed.locator("summary").click()
    expect(failed.locator("pre")).to_be_visible()
    ok = page.locator("tr.invocation", has_text=rows[0][0])    # the request id the function stored
    expect(ok).to_have_count(1)
    expect(ok).to_contain_text("ok")

    page.goto(console.url + "/logs?q=" + requests.utils.quote("job=job-A failing=false"))
    lines = page.locator("tr.log")
    expect(lines).to_have_count(1)
    expect(lines.first).to_contain_text("job received")
    expect(lines.first).to_contain_text(rows[0][0][:8])


def test_schedule_next_fire_and_run_now(stack, page, db):
    cloud, console, (before, after) = stack
    page.goto(console.url + "/schedules")
    now = datetime.now(timezone.utc)
    nightly = now.replace(hour=3, minute=0, second=0, microsecond=0)
    if nightly <= now:
        nightly += timedelta(days=1)
    row = page.locator("tr[data-schedule=Nightly]")
    expect(row.locator(".next")).to_have_text(nightly.strftime("%Y-%m-%d %H:%M:%S UTC"))
    shown = page.locator("tr[data-schedule=Every5] .next").inner_text()
    every5 = datetime.strptime(shown, "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=timezone.utc)
    assert before + timedelta(minutes=5) - timedelta(seconds=1) <= every5 <= after + timedelta(minutes=5)

    fired_before = len(query(db, "SELECT rule FROM console_test.fires"))
    expect(row.locator(".last")).to_have_text("not fired yet")
    row.locator("button").click()
    expect(page.locator(".flash")).to_contain_text("Nightly fired")
    rules = wait_until(lambda: query(db, "SELECT rule FROM console_test.fires")[fired_before:],
                       what="the schedule's row in the database")
    assert rules[0][0].endswith("Nightly") or "Nightly" in rules[0][0]
    expect(page.locator("tr[data-schedule=Nightly] .last")).to_contain_text("ok", timeout=WAIT_MS)


def test_one_off_scheduler_schedules_beside_the_template_ones(stack, page, db, aws_endpoint):
    """at() schedules a function creates through EventBridge Scheduler: a future one with its moment (read in
    its time zone) and "Run now"; a due one fires by itself and shows its result."""
    cloud, console, _ = stack
    scheduler = boto3.client("scheduler")
    arn = cloud.stack.resolver.attrs["NightlyFunction"]["Arn"]
    soon = (datetime.now(timezone.utc) + timedelta(hours=2)).replace(microsecond=0)
    moscow = soon.astimezone(ZoneInfo("Europe/Moscow")).strftime("%Y-%m-%dT%H:%M:%S")
    past = (datetime.now(timezone.utc) - timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%S")
    tag = uuid.uuid4().hex[:8]

    def create(name, expression, zone, rule):
        scheduler.create_schedule(Name=name, ScheduleExpression=expression, ScheduleExpressionTimezone=zone,
                                  FlexibleTimeWindow={"Mode": "OFF"}, ActionAfterCompletion="NONE",
                                  Target={"Arn": arn, "RoleArn": "arn:aws:iam::123456789012:role/console-test",
                                          "Input": json.dumps({"resources": [rule]})})
    create(f"later-{tag}", f"at({moscow})", "Europe/Moscow", f"later-{tag}")
    create(f"due-{tag}", f"at({past})", "UTC", f"due-{tag}")
    try:
        # The due one fires by itself within the local Scheduler's poll (1 s) and records its fire.
        wait_until(lambda: query(db, "SELECT 1 FROM console_test.fires WHERE rule = %s", f"due-{tag}"),
                   what="the due at() schedule's fire")
        page.goto(console.url + "/schedules")
        expect(page.locator("tr[data-schedule=Nightly]")).to_have_count(1)      # the template's rules stay
        later = page.locator(f'tr[data-scheduler="default/later-{tag}"]')
        expect(later.locator(".next")).to_have_text(soon.strftime("%Y-%m-%d %H:%M:%S UTC"))
        expect(later.locator(".source")).to_contain_text("Scheduler")
        expect(later.locator(".last")).to_have_text("not fired yet")
        due = page.locator(f'tr[data-scheduler="default/due-{tag}"]')
        expect(due.locator(".next")).to_have_text("fired (one-off)")
        expect(due.locator(".last")).to_contain_text("ok", timeout=WAIT_MS)

        later.locator("button").click()
        expect(page.locator(".flash")).to_contain_text(f"later-{tag} fired")
        wait_until(lambda: query(db, "SELECT 1 FROM console_test.fires WHERE rule = %s", f"later-{tag}"),
                   what="the run-now fire in the database")
        expect(page.locator(f'tr[data-scheduler="default/later-{tag}"] .last')).to_contain_text("ok", timeout=WAIT_MS)
        # Run now is outside the timetable: the one-off still fires at its moment.
        expect(page.locator(f'tr[data-scheduler="default/later-{tag}"] .next')).to_have_text(
            soon.strftime("%Y-%m-%d %H:%M:%S UTC"))
        state = json.loads(requests.get(console.url + "/api/state", timeout=10).text)
        assert {s["name"] for s in state["schedules"] if s["source"] == "scheduler"} >= {f"later-{tag}", f"due-{tag}"}
        missing = console.dispatch(Request("POST", "/scheduler/default/nothing-here/run", {},
                                           {"token": console.token}, "127.0.0.1"))
        assert missing[0] == 303 and "kind=error" in missing[1]["Location"]
    finally:
        for name in (f"later-{tag}", f"due-{tag}"):
            scheduler.delete_schedule(Name=name)


def test_ses_mail_appears_and_opens(stack, page, aws_endpoint):
    cloud, console, _ = stack
    page.goto(console.url + "/mail")
    expect(page.locator("#live")).to_contain_text("live", timeout=WAIT_MS)
    count = int(page.locator(".mail-count").inner_text())
    message_id = cloud.invoke("MailFunction", {"to": "anna@example.org", "subject": "Счёт №42", "text": "Оплатите",
                                               "html": "<p>Оплатите <b>до</b> пятницы</p>"})
    expect(page.locator(".mail-count")).to_have_text(str(count + 1), timeout=WAIT_MS)
    # Read in process, not from /moto-api/data.json: that serialises every model of the session, and answered 500
    # once in a loaded run (localcloud.testing.sent_email says more).
    recorded = sent_email()
    assert len(recorded) == count + 1
    assert recorded[-1]["id"] == message_id

    page.click("text=Счёт №42")
    expect(page.locator("h1.subject")).to_have_text("Счёт №42")
    # moto records one body per email: the HTML part when both are sent
    frame = page.frame_locator("iframe")
    expect(frame.locator("b")).to_have_text("до")


def test_websocket_connection_listed_and_disconnected(stack, page):
    cloud, console, _ = stack
    with connect(cloud.ws_url("WsApi") + "?user=alice") as ws:
        page.goto(console.url + "/connections")
        row = page.locator("tr.connection")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("user=alice")
        assert len(cloud.ws["WsApi"].connections()) == 1
        row.locator("button").click()
        expect(page.locator(".flash")).to_contain_text("disconnected")
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=10)
    expect(page.locator("tr.connection")).to_have_count(0)


def test_actions_only_from_this_machine_and_with_the_page_token(stack):
    cloud, console, _ = stack
    remote = console.dispatch(Request("POST", "/schedules/Nightly/run", {}, {"token": console.token}, "10.1.2.3"))
    assert remote[0] == 403
    status, _, body = console.dispatch(Request("GET", "/schedules", {}, {}, "10.1.2.3"))
    assert status == 200 and b"Run now" not in body and b"read-only" in body
    forged = requests.post(console.url + "/queues/JobsQueue/purge", data={"confirm": "JobsQueue"},
                           allow_redirects=False, timeout=10)
    assert forged.status_code == 403
    wrong = requests.post(console.url + "/queues/JobsQueue/purge", data={"token": console.token, "confirm": "x"},
                          allow_redirects=False, timeout=10)
    assert wrong.status_code == 303 and "/purge" in wrong.headers["Location"]
    state = json.loads(requests.get(console.url + "/api/state", timeout=10).text)
    assert {q["id"] for q in state["queues"]} == {"JobsQueue", "JobsDlq", "AlarmQueue", "AlarmDlq"}


def test_queue_counts_update_live_without_any_invocation(stack, page):
    # A message landing in a queue no function reads (here a DLQ) makes no invocation and no log line: the
    # console still tells the open page.
    cloud, console, _ = stack
    sqs = boto3.client("sqs")
    dlq = cloud.physical_id("JobsDlq")
    page.goto(console.url + "/queues")
    expect(page.locator("#live")).to_contain_text("live", timeout=WAIT_MS)
    cell = page.locator("tr[data-queue=JobsDlq] .visible")
    before = int(cell.inner_text())
    sqs.send_message(QueueUrl=dlq, MessageBody="straight into the DLQ")
    try:
        expect(cell).to_have_text(str(before + 1), timeout=WAIT_MS)
    finally:
        _drain(sqs, dlq)     # not PurgeQueue: once per queue every 60 s


def test_queue_counts_are_read_only_while_a_page_listens(stack, monkeypatch):
    cloud, _console, _ = stack
    console = Console(cloud).start()
    reads = []
    queues = console.resources.queues
    monkeypatch.setattr(console.resources, "queues", lambda: reads.append(1) or queues())
    try:
        time.sleep(3 * QUEUE_WATCH_INTERVAL)
        assert reads == []                        # no page open: moto is left alone
        with requests.get(console.url + "/events", stream=True, timeout=10) as stream:
            assert stream.raw.readline() == b"retry: 2000\n"
            wait_until(lambda: len(reads) >= 2, timeout=10, what="the watcher reading the queues")
    finally:
        console.stop()


def test_a_change_between_the_render_and_the_stream_start_is_told_at_once(stack, monkeypatch):
    """The page opens its event stream from the version it was rendered at: a change made before the stream
    opened is told first thing (a stream counting from its own start would wait for the next change)."""
    cloud, console, _ = stack
    reads = []
    queues = console.resources.queues
    monkeypatch.setattr(console.resources, "queues", lambda: reads.append(1) or queues())
    # Another page already listening: the queue watcher is not idle, and once it has read the counts twice its first
    # read (which tells every stream) is behind us: nothing else would tell the late stream.
    with requests.get(console.url + "/events", stream=True, timeout=30):
        wait_until(lambda: len(reads) >= 2, timeout=10, what="the watcher reading the queues")
        page = requests.get(console.url + "/queues", timeout=10).text
        [since] = re.findall(r'EventSource\("/events\?since=(\d+)"\)', page)
        console.changes.bump()                  # what an invocation or a log line does, before the page's stream
        with requests.get(f"{console.url}/events?since={since}", stream=True, timeout=30) as stream:
            assert stream.raw.readline() == b"retry: 2000\n" and stream.raw.readline() == b"\n"
            assert stream.raw.readline().startswith(b"event: change")    # not ": keepalive" 15 s later


def test_a_change_told_while_the_page_is_being_fetched_again_is_not_dropped(stack, chromium):
    """A change event that arrives while the page's refresh is in flight fetches the page once more after it: the
    answer in flight may hold the state from before that change. Its own console and page: the module's shared page
    and console carry other tests' streams and watcher state."""
    cloud, _console, _ = stack
    console = Console(cloud).start()
    page = chromium.new_page()
    held = []
    try:
        # Test-side counting of the change events the page receives (its own EventSource, wrapped before it opens).
        page.add_init_script("""(function () {
          var Real = window.EventSource; window.__changes = 0;
          window.EventSource = function (url) {
            var es = new Real(url); es.addEventListener("change", function () { window.__changes += 1; });
            return es; };
        })();""")
        page.goto(console.url + "/functions/MailFunction")
        count = page.locator("#function .invocations")
        expect(page.locator("#live")).to_contain_text("updated", timeout=WAIT_MS)    # the watcher's first read
        before = int(count.inner_text())
        seen = page.evaluate("window.__changes")

        def hold(route):      # the first refresh's answer is fetched now (the state after the first invocation)
            if held:          # and given later; the refreshes after it go through
                return route.continue_()
            held.append((route, route.fetch()))
        page.route(console.url + "/functions/MailFunction", hold)
        mail = {"to": "held@example.org", "subject": "held", "text": "t", "html": "<p>t</p>"}
        cloud.invoke("MailFunction", mail)
        page.wait_for_function("n => window.__changes > n", arg=seen, timeout=WAIT_MS)
        while not held:
            page.wait_for_timeout(50)
        cloud.invoke("MailFunction", mail)       # told while the first refresh is still in flight
        page.wait_for_function("n => window.__changes > n + 1", arg=seen, timeout=WAIT_MS)
        route, answer = held[0]
        route.fulfill(response=answer)
        expect(count).to_have_text(str(before + 2), timeout=WAIT_MS)
    finally:
        page.close()
        console.stop()


# ---- a web page must not drive the console ----------------------------------------------------------------------

def console_request(console, method, path, headers=None, **kwargs):
    """A real HTTP request to the console with exactly these extra headers (Host as given, if given)."""
    return requests.request(method, console.url + path, headers=headers or {}, allow_redirects=False, timeout=10,
                            **kwargs)


def assert_not_frameable(answer):
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["X-Frame-Options"] == "DENY"


def test_console_answers_only_to_its_own_host_names(stack, db):
    cloud, console, _ = stack
    port = console.port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "LOCALHOST", f"localhost:{port}"):
        answer = console_request(console, "GET", "/schedules", {"Host": host})
        assert answer.status_code == 200, host
        assert console.token in answer.text                 # its own pages carry the form token
    # A page that rebinds its own name to 127.0.0.1 sends that name: refused before anything is read or done.
    for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1.evil.example:{port}", f"localhost.:{port}",
                 f"localhost:{port}x", "[::1"):
        for path in ("/", "/schedules", "/api/state", "/events", "/connections"):
            answer = console_request(console, "GET", path, {"Host": host})
            assert answer.status_code == 421, (host, path)
            assert console.token not in answer.text and "JobsQueue" not in answer.text
            assert_not_frameable(answer)
    fired = len(query(db, "SELECT rule FROM console_test.fires"))
    answer = console_request(console, "POST", "/schedules/Nightly/run", {"Host": f"evil.example:{port}"},
                             data={"token": console.token})
    assert answer.status_code == 421
    time.sleep(1)
    assert len(query(db, "SELECT rule FROM console_test.fires")) == fired     # nothing fired


def test_names_given_to_the_console_are_answered_too(stack):
    cloud, _console, _ = stack
    console = Console(cloud, names=["devbox.internal", "[fd00::7]"]).start()
    try:
        for host in ("devbox.internal", f"DevBox.Internal:{console.port}", f"[fd00::7]:{console.port}",
                     f"127.0.0.1:{console.port}"):
            assert console_request(console, "GET", "/queues", {"Host": host}).status_code == 200, host
        assert console_request(console, "GET", "/queues", {"Host": "other.internal"}).status_code == 421
    finally:
        console.stop()


def test_every_answer_forbids_framing(stack):
    cloud, console, _ = stack
    answers = [console_request(console, "GET", path) for path in ("/", "/queues", "/schedules", "/connections",
                                                                  "/mail", "/logs", "/api/state", "/nothing")]
    answers.append(console_request(console, "POST", "/queues/JobsQueue/purge", data={"token": "stale"}))
    answers.append(console_request(console, "POST", "/queues/JobsQueue/purge",
                                   data={"token": console.token, "confirm": "not the name"}))
    answers.append(console_request(console, "DELETE", "/queues"))
    assert [a.status_code for a in answers] == [200] * 7 + [404, 403, 303, 501]
    message_id = cloud.invoke("MailFunction", {"to": "f@example.org", "subject": "framed?", "text": "t",
                                               "html": "<p>framed?</p>"})
    answers.append(console_request(console, "GET", f"/mail/{message_id}/html"))
    assert answers[-1].status_code == 200 and "sandbox" in answers[-1].headers["Content-Security-Policy"]
    with requests.get(console.url + "/events", stream=True, timeout=10) as stream:
        answers.append(stream)
        for answer in answers:
            assert_not_frameable(answer)


def test_posts_only_from_the_console_own_origin(stack, db):
    cloud, console, _ = stack
    own = f"http://127.0.0.1:{console.port}"
    fired = len(query(db, "SELECT rule FROM console_test.fires"))
    for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"},
                    {"Origin": f"http://localhost:{console.port}"},       # the same machine, another origin
                    {"Origin": f"http://127.0.0.1:{console.port + 1}"}, {"Referer": "https://evil.example/page"}):
        answer = console_request(console, "POST", "/schedules/Nightly/run", headers, data={"token": console.token})
        assert answer.status_code == 403, headers
        assert "another site" in answer.text
    time.sleep(1)
    assert len(query(db, "SELECT rule FROM console_test.fires")) == fired     # none of them fired it
    # The console's own pages (Origin, or only a Referer from it) and scripts that send neither are served.
    for headers in ({"Origin": own}, {"Referer": own + "/queues/JobsQueue/purge"}, {}):
        answer = console_request(console, "POST", "/queues/JobsQueue/purge", headers,
                                 data={"token": console.token, "confirm": "not the name"})
        assert answer.status_code == 303 and "/purge" in answer.headers["Location"], headers


def test_a_page_of_another_origin_can_neither_post_to_nor_frame_the_console(stack, chromium, db):
    # What a browser does, not what a test sends: a page served from another origin (another port) posts the
    # run-now form with the right token and frames the console.
    import http.server
    import threading
    cloud, console, _ = stack
    evil = (f'<form id="f" method="post" action="{console.url}/schedules/Nightly/run" target="out">'
            f'<input name="token" value="{console.token}"></form><iframe name="out"></iframe>'
            f'<iframe id="framed" src="{console.url}/schedules"></iframe>').encode()

    class Evil(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(evil)))
            self.end_headers()
            self.wfile.write(evil)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Evil)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    page = chromium.new_page()
    fired = len(query(db, "SELECT rule FROM console_test.fires"))
    try:
        with page.expect_response(lambda r: r.url.endswith("/schedules/Nightly/run")) as posted:
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
            page.evaluate("document.getElementById('f').submit()")
        assert posted.value.status == 403
        framed = page.frame_locator("#framed")
        expect(framed.locator("text=Run now")).to_have_count(0)         # the browser refused to show it
        time.sleep(1)
        assert len(query(db, "SELECT rule FROM console_test.fires")) == fired
    finally:
        page.close()
        server.shutdown()
        server.server_close()


def test_credentials_in_paths_are_masked_wherever_the_console_shows_them(stack, db):
    cloud, console, _ = stack
    secret = f"s3cr3t-{uuid.uuid4().hex}"
    with connect(cloud.ws_url("WsApi") + f"?user=alice&token={secret}&api_key={secret}"):
        page = console_request(console, "GET", "/connections").text
        state = console_request(console, "GET", "/api/state").text
        assert "user=alice" in page and "token=***" in page and "api_key=***" in page
        assert secret not in page and secret not in state and "token=***" in state
        assert [c["path"] for c in cloud.ws["WsApi"].connections() if secret in c["path"]]   # the gateway has it
    # A function that logs a URL with a token (here the job's body), and an invocation error quoting one.
    boto3.client("sqs").send_message(QueueUrl=cloud.physical_id("JobsQueue"),
                                     MessageBody=f"https://callback.example/done?access_token={secret}&page=2")
    logs = wait_until(lambda: (lambda t: t if "page=2" in t else None)(
        console_request(console, "GET", "/logs", params={"function": "JobFunction"}).text),
        what="the job's log line in the console")
    assert "access_token=***" in logs and secret not in logs
    console.invocations({"function": "JobFunction", "request_id": uuid.uuid4().hex, "trigger": "invoke",
                         "duration_ms": 1.0, "cold": False, "error_type": "HTTPError",
                         "message": f"GET https://api.example/x?secret={secret} failed",
                         "trace": f"Traceback ...\n  url='https://api.example/x?Signature={secret}'",
                         "started": time.time()})
    page = console_request(console, "GET", "/functions/JobFunction").text
    assert "secret=***" in page and "Signature=***" in page and secret not in page


def test_console_remote_option_takes_optional_host_names():
    import localcloud.__main__ as local_main
    assert local_main.parse_args(["run"]).console_remote is None                  # loopback only, read-only elsewhere
    assert local_main.parse_args(["run", "--console-remote"]).console_remote == ""
    assert local_main.parse_args(["run", "--console-remote", "devbox.internal,ci"]).console_remote == \
        "devbox.internal,ci"


def _drain(sqs, url):
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not got:
            return
        for message in got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _alarm_states(console):
    answer = requests.get(console.url + "/api/state", timeout=10)
    return {a["id"]: a for a in answer.json()["alarms"]}


def test_alarms_show_what_aws_would_raise_from_the_same_conditions(stack, page):
    """A dead-letter message and a function's errors raise their alarms on the page and in /api/state; an
    emptied DLQ is OK again; a metric the local cloud cannot measure says so instead of guessing."""
    cloud, console, _ = stack
    sqs = boto3.client("sqs")
    _drain(sqs, cloud.physical_id("AlarmDlq"))
    assert _alarm_states(console)["AlarmDlqNotEmptyAlarm"]["state"] == "OK"
    sqs.send_message(QueueUrl=cloud.physical_id("AlarmQueue"), MessageBody="doomed")
    wait_until(lambda: sqs_counts(cloud, "AlarmDlq")[0] == 1, what="the failed job in AlarmDlq")
    states = _alarm_states(console)
    assert states["AlarmDlqNotEmptyAlarm"]["state"] == "ALARM" and states["AlarmDlqNotEmptyAlarm"]["value"] == 1
    errors = states["FailingFunctionErrorsAlarm"]
    assert errors["state"] == "ALARM" and errors["value"] >= 1 and errors["condition"] == "Sum > 0 over 60 s"
    assert states["AlarmQueueAgeAlarm"]["state"] == "OK" and states["AlarmQueueAgeAlarm"]["value"] == 0
    unmeasured = states["FailingFunctionConcurrencyAlarm"]
    assert unmeasured["state"] == "INSUFFICIENT_DATA" and "not measured locally" in unmeasured["reason"]

    page.goto(console.url + "/alarms")
    expect(page.locator("tr[data-alarm=AlarmDlqNotEmptyAlarm] .state")).to_have_text("ALARM")
    expect(page.locator("tr[data-alarm=FailingFunctionErrorsAlarm] .state")).to_have_text("ALARM")
    expect(page.locator("#live")).to_contain_text("live", timeout=WAIT_MS)
    _drain(sqs, cloud.physical_id("AlarmDlq"))
    # no reload: the page hears of the queue's change and shows the alarm back to OK
    expect(page.locator("tr[data-alarm=AlarmDlqNotEmptyAlarm] .state")).to_have_text("OK", timeout=WAIT_MS)

    # The errors are counted over the alarm's own window: once it has passed, the alarm is OK again.
    from localcloud.console import alarms
    later = {a["id"]: a for a in alarms.evaluate(cloud, console.resources, console.invocations,
                                                 now=time.time() + 61)}
    assert later["FailingFunctionErrorsAlarm"]["state"] == "OK"
