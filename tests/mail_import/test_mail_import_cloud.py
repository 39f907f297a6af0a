"""mail_import through the local cloud: HTTP gateway, SQS-driven worker chunks, the WebSocket API."""
import hashlib
import json
import os
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
import requests
from mail_import_corpus import make_message
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as ws_connect

from functions.mail_import.chalicelib.mime.parser import parse_message
from mail_import_support import FUNCTIONS

# Preloaded by the local cloud's workers: the faults of the crash tests (see that module).
FAULTS = str(Path(__file__).resolve().parent / "mail_import_faults.py")


@pytest.fixture(scope="module")
def cloud(start_cloud):
    return start_cloud(functions=FUNCTIONS, env={"MAIL_IMPORT_BATCH": "10", "MAIL_IMPORT_PUSH_INTERVAL": "0.1"})


@pytest.fixture(scope="module")
def api(cloud):
    return cloud.api_url("MailImportApi")


def create(api, mailbox, **fields):
    response = requests.post(f"{api}/api/accounts", json=mailbox.account_input(**fields), timeout=30)
    assert response.status_code == 201, response.text
    body = response.json()
    return body["id"], body["token"]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def wait_finished(api, account_id, token, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = requests.get(f"{api}/api/accounts/{account_id}", headers=bearer(token), timeout=30).json()
        if status["job"] and status["job"]["state"] not in ("queued", "running"):
            return status
        time.sleep(0.2)
    raise AssertionError(f"import of account {account_id} did not finish: {status}")


def ws_url(cloud, account_id, token):
    return f"{cloud.ws_url('MailImportWsApi')}?account={account_id}&token={token}"


def events_until(ws, kinds, timeout=90):
    """Every event received until one whose type is in kinds (inclusive)."""
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        event = json.loads(ws.recv(timeout=deadline - time.monotonic()))
        seen.append(event)
        if event["type"] in kinds:
            return seen
    raise AssertionError(f"no {kinds} event; got {seen[-5:]}")


def test_page_starts_the_import_and_attachments_download_byte_for_byte(dovecot, cloud, api):
    mailbox = dovecot.new_mailbox("web")
    messages = [make_message(6000 + i, i % 5 == 0) for i in range(30)]
    mailbox.fill("INBOX", messages)
    account_id, token = create(api, mailbox)

    page = requests.get(f"{api}/accounts/{account_id}?token={token}", timeout=30)

    assert page.status_code == 200 and "Чтение сообщений" in page.text
    cookie = page.history[0].headers["Set-Cookie"]   # set on the redirect; then the URL loses the token
    assert f"mail_import_{account_id}={token}" in cookie
    # Scripts cannot read the token and other sites' requests do not carry it.
    assert "; HttpOnly" in cookie and "; SameSite=Lax" in cookie
    status = wait_finished(api, account_id, token)
    assert status["job"]["state"] == "done" and status["count"] == 30
    assert status["account"]["status"] == "ok" and "password" not in json.dumps(status)
    listed = requests.get(f"{api}/api/accounts/{account_id}/messages?after=0", headers=bearer(token),
                          timeout=30).json()["messages"]
    assert [m["uid"] for m in listed] == list(range(1, 31))
    with_files = [m for m in listed if m["attachments"]]
    assert len(with_files) == 6
    cookies = {f"mail_import_{account_id}": token}   # what the browser got from the page
    for row in with_files:
        expected = parse_message(messages[row["uid"] - 1]).attachments
        assert len(row["attachments"]) == len(expected) == 1
        for got, want in zip(row["attachments"], expected):
            download = requests.get(f"{api}/accounts/{account_id}/attachments/{got['id']}", cookies=cookies,
                                    timeout=30)
            assert download.status_code == 200
            assert_served_as_a_download(download)
            assert hashlib.sha256(download.content).digest() == hashlib.sha256(want.content).digest()
            assert got["filename"] == want.filename and got["size"] == len(want.content)


def assert_served_as_a_download(response):
    """Whatever the stored type, the browser saves the bytes and never renders them on our origin."""
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("attachment; filename")


def test_an_html_attachment_is_downloaded_never_rendered(dovecot, cloud, api):
    mailbox = dovecot.new_mailbox("html")
    letter = EmailMessage()
    letter["From"], letter["To"], letter["Subject"] = "a@example.com", "b@example.com", "a page"
    letter["Message-ID"] = "<html-attachment@example.com>"
    letter.set_content("see the attachment")
    script = b"<html><body><script>document.title = 'ran on your origin'</script></body></html>"
    letter.add_attachment(script, maintype="text", subtype="html", filename="page.html")
    mailbox.fill("INBOX", [letter.as_bytes()])
    account_id, token = create(api, mailbox)
    requests.post(f"{api}/api/accounts/{account_id}/import", headers=bearer(token), timeout=30)
    wait_finished(api, account_id, token)
    (attachment,) = [a for m in requests.get(f"{api}/api/accounts/{account_id}/messages", headers=bearer(token),
                                             timeout=30).json()["messages"] for a in m["attachments"]]
    assert attachment["content_type"] == "text/html"        # stored as sent...

    download = requests.get(f"{api}/accounts/{account_id}/attachments/{attachment['id']}",
                            cookies={f"mail_import_{account_id}": token}, timeout=30)

    assert download.status_code == 200 and download.content == script
    assert_served_as_a_download(download)                   # ...served as bytes to save


def test_another_accounts_token_sees_nothing(dovecot, cloud, api):
    owner, stranger = dovecot.new_mailbox("own"), dovecot.new_mailbox("other")
    owner.fill("INBOX", [make_message(7000, True)])
    owner_id, owner_token = create(api, owner)
    _stranger_id, stranger_token = create(api, stranger)
    requests.post(f"{api}/api/accounts/{owner_id}/import", headers=bearer(owner_token), timeout=30)
    wait_finished(api, owner_id, owner_token)
    (attachment_id,) = [a["id"] for m in requests.get(f"{api}/api/accounts/{owner_id}/messages",
                                                      headers=bearer(owner_token), timeout=30).json()["messages"]
                        for a in m["attachments"]]

    for token in (stranger_token, "", "x" * 43):
        assert requests.get(f"{api}/accounts/{owner_id}?token={token}", timeout=30).status_code == 404
        assert requests.get(f"{api}/api/accounts/{owner_id}/messages", headers=bearer(token),
                            timeout=30).status_code == 404
        assert requests.get(f"{api}/accounts/{owner_id}/attachments/{attachment_id}",
                            cookies={f"mail_import_{owner_id}": token}, timeout=30).status_code == 404
        with pytest.raises(InvalidStatus) as rejected:
            ws_connect(ws_url(cloud, owner_id, token), open_timeout=10)
        assert rejected.value.response.status_code == 403
    assert requests.get(f"{api}/accounts/{owner_id}/attachments/{attachment_id}",
                        cookies={f"mail_import_{owner_id}": owner_token}, timeout=30).status_code == 200


def test_two_pages_see_progress_rows_and_the_end_live(dovecot, cloud, api):
    mailbox = dovecot.new_mailbox("live")
    mailbox.fill("INBOX", [make_message(8000 + i, i % 20 == 0) for i in range(120)])
    account_id, token = create(api, mailbox)
    tabs = [ws_connect(ws_url(cloud, account_id, token), open_timeout=10) for _ in range(2)]
    for ws in tabs:
        ws.send(json.dumps({"action": "subscribe"}))
        assert json.loads(ws.recv(timeout=10))["type"] == "snapshot"

    requests.post(f"{api}/api/accounts/{account_id}/import", headers=bearer(token), timeout=30)

    for ws in tabs:
        events = events_until(ws, {"done", "error"})
        assert events[-1]["type"] == "done" and events[-1]["imported"] == 120
        receiving = [e["remaining"] for e in events if e["type"] == "progress" and e["phase"] == "receiving"]
        assert receiving and receiving == sorted(receiving, reverse=True) and receiving[-1] == 0
        assert max(receiving) > 0
        ids = [r["id"] for e in events if e["type"] == "rows" for r in e["rows"]]
        assert len(ids) == len(set(ids)) == 120
        ws.close()


def test_failures_reach_the_page_as_an_error_event(dovecot, cloud, api, new_account):
    mailbox = dovecot.new_mailbox("bad")
    # A password that stops working after the account was added (the API refuses a wrong one up front).
    account_id, token = new_account(mailbox, password="wrong-password")
    with ws_connect(ws_url(cloud, account_id, token), open_timeout=10) as ws:
        ws.send(json.dumps({"action": "subscribe"}))
        ws.recv(timeout=10)
        requests.post(f"{api}/api/accounts/{account_id}/import", headers=bearer(token), timeout=30)
        error = events_until(ws, {"error", "done"}, timeout=30)[-1]

    assert error["type"] == "error" and "Wrong login or password" in error["message"]
    assert "wrong-password" not in error["message"]
    status = requests.get(f"{api}/api/accounts/{account_id}", headers=bearer(token), timeout=30).json()
    # A rejected password is marked apart: scheduled syncs stop until a new one is given.
    assert status["account"]["status"] == "auth_failed" and status["account"]["error"] == error["message"]
    page = requests.get(f"{api}/accounts/{account_id}", cookies={f"mail_import_{account_id}": token}, timeout=30)
    assert page.status_code == 200 and "Traceback" not in page.text


def test_bad_input_and_unknown_pages_get_clear_answers(cloud, api):
    bad = requests.post(f"{api}/api/accounts", json={"provider": "custom", "host": "", "login": "a",
                                                     "password": "b"}, timeout=30)
    assert bad.status_code == 400 and "host" in bad.json()["error"]
    form = requests.post(f"{api}/accounts", data={"provider": "nope", "login": "a", "password": "secret-pw"},
                         headers={"Accept-Language": "en"}, timeout=30)
    assert form.status_code == 400 and "Choose a provider" in form.text and "secret-pw" not in form.text
    russian = requests.post(f"{api}/accounts", data={"provider": "nope", "login": "a", "password": "secret-pw"},
                            timeout=30)
    assert russian.status_code == 400 and "Выберите почтовый сервис: gmail.com" in russian.text
    assert "secret-pw" not in russian.text
    assert requests.get(f"{api}/accounts/abc", timeout=30).status_code == 404
    assert requests.get(f"{api}/", timeout=30).status_code == 200


# Set when the queue is created: a receive already polling when a test changed it would use the template's 720 s.
REDELIVER_SOON = {"MailImportQueue": {"VisibilityTimeout": "3"}}


def test_a_crashed_chunk_is_delivered_again_and_resumes(dovecot, start_cloud):
    crashing = start_cloud(functions=FUNCTIONS, env={"MAIL_IMPORT_BATCH": "10", "LOCAL_PRELOAD": FAULTS,
                                                     "FAULT_CRASH_AFTER_COMMITS": "1"},
                           queue_attributes=REDELIVER_SOON)
    api = crashing.api_url("MailImportApi")
    mailbox = dovecot.new_mailbox("redeliver")
    mailbox.fill("INBOX", [make_message(9000 + i, i % 9 == 0) for i in range(50)])
    account_id, token = create(api, mailbox)

    requests.post(f"{api}/api/accounts/{account_id}/import", headers=bearer(token), timeout=30)
    status = wait_finished(api, account_id, token, timeout=60)

    assert status["job"]["state"] == "done" and status["count"] == 50
    listed = requests.get(f"{api}/api/accounts/{account_id}/messages?after=0", headers=bearer(token),
                          timeout=30).json()["messages"]
    assert sorted(m["uid"] for m in listed) == list(range(1, 51))
    poller = next(p for p in crashing.pollers if p.mapping.function_id == "MailImportWorkerFunction")
    # The crash happened, and only once: the worker reported that record failed (batchItemFailures) and it came
    # back after the backoff; the invocation itself did not fail.
    assert poller.stats["partial_failures"] == 1 and poller.stats["failed_batches"] == 0


def test_a_killed_worker_loses_nothing_and_stores_nothing_twice(dovecot, start_cloud, tmp_path):
    marker = tmp_path / "killed.pid"
    killing = start_cloud(functions=FUNCTIONS, env={
        "MAIL_IMPORT_BATCH": "5", "LOCAL_PRELOAD": FAULTS, "FAULT_KILL_AFTER_COMMITS": "2",
        "FAULT_KILL_MARKER": str(marker),
        # a short lease: the dead chunk's job is free soon after the redelivery
        "MAIL_IMPORT_CHUNK_SECONDS": "2", "MAIL_IMPORT_LEASE_SECONDS": "2"},
        queue_attributes=REDELIVER_SOON)
    api = killing.api_url("MailImportApi")
    mailbox = dovecot.new_mailbox("killed")
    messages = [make_message(9500 + i, i % 7 == 0) for i in range(80)]
    mailbox.fill("INBOX", messages)
    account_id, token = create(api, mailbox)

    requests.post(f"{api}/api/accounts/{account_id}/import", headers=bearer(token), timeout=30)
    status = wait_finished(api, account_id, token)

    pid = int(marker.read_text())          # the worker that SIGKILLed itself after its 2nd commit ...
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)                    # ... is really gone (the runtime reaped it)
    poller = next(p for p in killing.pollers if p.mapping.function_id == "MailImportWorkerFunction")
    assert poller.stats["failed_batches"] == 1   # its invocation failed (Runtime.ExitError), and only that one
    assert status["job"]["state"] == "done" and status["count"] == 80
    listed = requests.get(f"{api}/api/accounts/{account_id}/messages?after=0", headers=bearer(token),
                          timeout=30).json()["messages"]
    assert sorted(m["uid"] for m in listed) == list(range(1, 81))     # none lost, none twice
    assert len({m["message_id"] for m in listed}) == 80
    for row in listed:
        expected = parse_message(messages[row["uid"] - 1]).attachments
        assert [(a["filename"], a["size"]) for a in row["attachments"]] == \
            [(a.filename, len(a.content)) for a in expected]
    assert sum(len(m["attachments"]) for m in listed) == sum(
        len(parse_message(m).attachments) for m in messages) > 0
