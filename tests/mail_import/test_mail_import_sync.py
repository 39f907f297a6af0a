"""Mailboxes kept in sync: the schedule (through the local cloud's rate() schedule), messages gone from the
server marked, stranded jobs queued again, a login that stopped working, and the IMAP connection's guards
(internal addresses, non-IMAP servers, tarpits) with imports of different accounts running side by side."""
import socket
import threading
from collections import Counter

import pytest
import requests
from mail_import_corpus import make_message

from common import netguard, web
from functions.mail_import.chalicelib.engine import accounts, imap_session, job_records, schedule, vanished
from functions.mail_import.chalicelib.engine.failures import (
    NOT_IMAP, NOT_IMAP_PORT, PRIVATE_HOST, TOO_SLOW, ImportFailure, connect_failure)
from functions.mail_import.chalicelib.engine.imap_connection import GuardedClient, Pace, TooSlow
from functions.mail_import.chalicelib.web import account_form
from mail_import_support import FUNCTIONS, Mailbox
from waiting import wait_until as _wait_until

NO_DEAD_LETTERS = {"cleared": 0, "requeued": 0, "failed": 0}   # no dead-letter queue set in these tests


def numbered(count, start=0):
    return [make_message(i, False) for i in range(start, start + count)]


@pytest.fixture
def nobody_else_due(db):
    """Other tests' accounts are not due, their unfinished jobs not stranded and their finished ones not waiting
    for indexing, while a test drives the
    schedule by hand (the database is shared by the whole session)."""
    db("UPDATE mail_import.accounts SET next_sync_at = now() + interval '1 day'")
    db("UPDATE mail_import.jobs SET updated_at = now() WHERE state IN ('queued', 'running')")
    db("UPDATE mail_import.jobs SET index_from = NULL WHERE state NOT IN ('queued', 'running')")
    db("UPDATE mail_import.accounts SET deleting_at = now() WHERE deleting_at IS NOT NULL")   # no stalled deletion


# ---- the schedule's choices ------------------------------------------------------------------------------

def test_ten_thousand_starts_are_spread_over_the_minute():
    delays = schedule.delays(schedule.WINDOW_SECONDS * schedule.MAX_STARTS_PER_SECOND)
    per_second = Counter(delays)
    assert max(per_second.values()) <= schedule.MAX_STARTS_PER_SECOND
    assert min(delays) == 0 and max(delays) < 60 and len(per_second) == schedule.WINDOW_SECONDS


def test_due_accounts_are_claimed_once_and_at_most_a_minutes_worth(db, mail_env, nobody_else_due):
    limit = schedule.WINDOW_SECONDS * schedule.MAX_STARTS_PER_SECOND
    ids = [r[0] for r in db(
        "INSERT INTO mail_import.accounts (provider, host, port, use_ssl, login, password_enc, token_digest, "
        "next_sync_at, sync_minutes) SELECT 'custom', 'imap.example.com', 993, true, 'u' || n, 'x', "
        "'due-test-' || n || '-' || gen_random_uuid(), now() - interval '1 hour' + n * interval '1 ms', "
        "CASE WHEN mod(n, 10) = 0 THEN NULL ELSE 10 END FROM generate_series(1, 10000) n RETURNING id")]
    try:
        runs = []
        while not runs or runs[-1]:
            runs.append(schedule.claim_due())
        claimed = [account for run in runs for account in run]
        off = set(ids[9::10])  # sync_minutes NULL: never claimed
        assert [len(run) for run in runs] == [limit, limit, limit, 9000 - 3 * limit, 0]
        assert len(set(claimed)) == len(claimed) == 9000 and set(claimed) == set(ids) - off
        assert db("SELECT min(next_sync_at - now()) > interval '9 minutes' FROM mail_import.accounts "
                  "WHERE id = ANY(%s)", claimed) == [(True,)]
    finally:
        db("DELETE FROM mail_import.accounts WHERE id = ANY(%s)", ids)


def test_sync_interval_is_validated_and_can_be_switched_off():
    assert account_form.sync_minutes({"minutes": "15"}) == 15
    assert account_form.sync_minutes({"minutes": None}) is None
    assert account_form.sync_minutes({"minutes": "off"}) is None
    for bad in ("-5", "10081", "ten", "1.5"):
        with pytest.raises(web.AppError) as raised:
            account_form.sync_minutes({"minutes": bad})
        assert raised.value.status == 400 and raised.value.fields["field"] == "minutes"


# ---- vanished messages ---------------------------------------------------------------------------------

def test_vanished_logic_needs_a_listing_only_when_counts_disagree():
    assert vanished.nothing_vanished(exists=10, present=8, new=2)
    assert not vanished.nothing_vanished(exists=9, present=8, new=2)
    assert vanished.gone([1, 2, 3, 5, 8], [2, 3, 8, 9]) == [1, 5]


def test_a_message_deleted_on_the_server_is_marked_gone_and_kept(dovecot, new_account, run_import, db):
    mailbox = dovecot.new_mailbox("vanish")
    mailbox.fill("INBOX", numbered(6))
    account_id, _ = new_account(mailbox)
    assert run_import(account_id).job["imported"] == 6
    quiet = run_import(account_id).job
    with mailbox.client() as client:
        client.select_folder("INBOX")
        client.delete_messages([2, 5])
        client.expunge()

    after = run_import(account_id).job

    rows = db("SELECT uid, gone_at IS NOT NULL FROM mail_import.messages WHERE account_id = %s ORDER BY uid",
              account_id)
    assert rows == [(1, False), (2, True), (3, False), (4, False), (5, True), (6, False)]
    assert after["imported"] == 0
    # Nothing changed: no listing at all; something vanished: one UID SEARCH ALL more.
    assert after["imap_commands"] == quiet["imap_commands"] + 1
    first_marks = db("SELECT gone_at FROM mail_import.messages WHERE account_id = %s AND uid = 2", account_id)
    run_import(account_id)
    assert db("SELECT gone_at FROM mail_import.messages WHERE account_id = %s AND uid = 2", account_id) == first_marks


# ---- stranded jobs and failed logins --------------------------------------------------------------------

def test_a_job_whose_queue_message_was_lost_is_queued_again_and_finishes(
        dovecot, new_account, run_import, db, nobody_else_due):
    mailbox = dovecot.new_mailbox("stranded")
    mailbox.fill("INBOX", numbered(3))
    account_id, _ = new_account(mailbox)
    job, created = job_records.create_job(account_id)  # created, but its message never reached the queue
    assert created
    db("UPDATE mail_import.jobs SET updated_at = now() - interval '1 hour' WHERE id = %s", job["id"])

    assert schedule.run() == {"started": 0, "requeued": 1, "indexing": 0, "dead_letters": NO_DEAD_LETTERS,
                              "deletions": 0}
    # claimed: not queued twice
    assert schedule.run() == {"started": 0, "requeued": 0, "indexing": 0, "dead_letters": NO_DEAD_LETTERS,
                              "deletions": 0}
    finished = run_import(account_id)  # joins the active job and drains the queue

    assert finished.job["id"] == job["id"] and finished.job["state"] == "done" and finished.job["imported"] == 3


def test_a_rejected_password_stops_syncs_until_a_new_one_is_given(
        dovecot, new_account, run_import, db, nobody_else_due):
    mailbox = dovecot.new_mailbox("auth")
    mailbox.fill("INBOX", numbered(2))
    account_id, _ = new_account(mailbox, password="wrong")
    run_import(account_id)
    assert db("SELECT status FROM mail_import.accounts WHERE id = %s", account_id) == [("auth_failed",)]
    db("UPDATE mail_import.accounts SET next_sync_at = now() - interval '1 minute' WHERE id = %s", account_id)
    assert account_id not in schedule.claim_due()

    accounts.set_password(account_id, mailbox.password)
    assert db("SELECT status FROM mail_import.accounts WHERE id = %s", account_id) == [("new",)]
    assert account_id in schedule.claim_due()
    assert run_import(account_id).job["imported"] == 2


# ---- where the import may connect -------------------------------------------------------------------------

class Target:
    def __init__(self, host, port):
        self.host, self.port = host, port


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "10.0.0.5", "192.168.1.1", "172.16.0.1",
                                  "169.254.169.254", "2130706433", "0x7f000001", "100.64.0.1", "224.0.0.1",
                                  "::1", "fe80::1", "0.0.0.0"])
def test_internal_addresses_are_refused_unless_allowed(host):
    with pytest.raises(ImportFailure) as raised:
        imap_session.destination(Target(host, 993), netguard.Allowed())
    assert raised.value.msgid == PRIVATE_HOST


def test_only_imap_ports_by_default_and_allowed_hosts_are_exempt():
    assert imap_session.destination(Target("8.8.8.8", 993), netguard.Allowed()) == "8.8.8.8"
    assert imap_session.destination(Target("8.8.8.8", 143), netguard.Allowed()) == "8.8.8.8"
    with pytest.raises(ImportFailure) as raised:
        imap_session.destination(Target("8.8.8.8", 4222), netguard.Allowed())
    assert raised.value.msgid == NOT_IMAP_PORT
    allowed = netguard.Allowed.parse("127.0.0.1, 10.0.0.0/8")
    assert imap_session.destination(Target("127.0.0.1", 10143), allowed) == "127.0.0.1"
    assert imap_session.destination(Target("10.1.2.3", 993), allowed) == "10.1.2.3"


def test_an_account_on_an_internal_address_is_refused_at_creation(monkeypatch, mail_env):
    from functions.mail_import.chalicelib import settings
    monkeypatch.setattr(settings, "imap_allowed", netguard.Allowed)  # nothing internal allowed
    values = {"provider": "custom", "host": "169.254.169.254", "port": "993", "ssl": "on", "login": "a",
              "password": "b"}
    with pytest.raises(web.AppError) as raised:
        accounts.create(account_form.parse_account(values))
    assert raised.value.status == 400 and raised.value.fields["field"] == "host"
    with pytest.raises(web.AppError) as raised:
        accounts.create(account_form.parse_account(dict(values, host="8.8.8.8", port="6379")))
    assert raised.value.fields["field"] == "port"


class FakeServer:
    """Accepts connections and runs `serve(conn)` for each; counts them."""

    def __init__(self, serve):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.serve, self.stop = serve, threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn):
        with conn:
            try:
                self.serve(conn, self.stop)
            except OSError:
                pass

    def close(self):
        self.stop.set()
        self.sock.close()


def nats(conn, stop):
    conn.sendall(b'INFO {"server_id":"NDSECRETSERVERID","version":"2.10.7","go":"go1.21"}\r\n')
    conn.recv(100)


def tarpit(conn, stop):
    for byte in b"* OK IMAP4rev1 ready, very slowly" * 100:
        if stop.wait(0.3):
            return
        conn.sendall(bytes([byte]))


def test_a_foreign_servers_reply_is_never_shown(mail_env):
    server = FakeServer(nats)
    try:
        with pytest.raises(ImportFailure) as raised:
            imap_session.connect(imap_session.Server("127.0.0.1", server.port, False, "a", "b"))
    finally:
        server.close()
    assert raised.value.msgid == NOT_IMAP
    assert "SECRET" not in str(raised.value) and "2.10" not in str(raised.value) and "INFO" not in str(raised.value)


@pytest.mark.timeout(60)  # the guard's point: a tarpit ends in seconds, not after every byte's read timeout
def test_a_tarpit_is_cut_off_by_the_minimum_rate_and_the_session_deadline():
    server = FakeServer(tarpit)
    try:
        with pytest.raises(TooSlow, match="too slowly"):
            GuardedClient("127.0.0.1", "127.0.0.1", server.port, False, None, Pace(30, min_rate=100, grace=1))
        with pytest.raises(TooSlow, match="too long"):
            GuardedClient("127.0.0.1", "127.0.0.1", server.port, False, None, Pace(1.5, min_rate=0, grace=0))
    finally:
        server.close()
    assert connect_failure(TooSlow("x"), "imap.example.com", 993).msgid == TOO_SLOW


# ---- through the local cloud: the schedule, and imports side by side ------------------------------------

@pytest.fixture
def sync_cloud(start_cloud):
    # rate(1 minute) fires every 2 s; a tarpit holds its session 20 s at most. One per test, stopped after it:
    # its schedule claims every due account, so it must not run beside the tests above that claim by hand.
    return start_cloud(functions=FUNCTIONS + ["MailImportSyncFunction"], rate_scale=1 / 30,
                       env={"MAIL_IMPORT_BATCH": "10", "MAIL_IMPORT_IMAP_SESSION_SECONDS": "20",
                            "MAIL_IMPORT_IMAP_MIN_BYTES_PER_SECOND": "0"})


def api_json(api, path, token, method="GET", **kwargs):
    response = requests.request(method, f"{api}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30,
                                **kwargs)
    assert response.status_code < 300, response.text
    return response.json()


def wait_until(check, timeout=120, what="condition"):
    return _wait_until(check, timeout, what, interval=0.3)


def test_the_schedule_keeps_an_account_in_sync_without_its_page(sync_cloud, dovecot, db, nobody_else_due):
    api = sync_cloud.api_url("MailImportApi")
    mailbox = dovecot.new_mailbox("synced")
    mailbox.fill("INBOX", numbered(4))
    created = requests.post(f"{api}/api/accounts", json=mailbox.account_input(), timeout=30).json()
    account_id, token = created["id"], created["token"]
    assert api_json(api, f"/api/accounts/{account_id}/sync", token, "PUT", json={"minutes": 1}) == {"sync_minutes": 1}

    def due_now():  # the interval passing, without waiting a real minute
        db("UPDATE mail_import.accounts SET next_sync_at = now() WHERE id = %s", account_id)

    def uids():
        rows = api_json(api, f"/api/accounts/{account_id}/messages?after=0", token)["messages"]
        return [(r["uid"], r["gone_at"] is not None) for r in rows]

    due_now()
    wait_until(lambda: len(uids()) == 4, what="the first sync")
    mailbox.fill("INBOX", numbered(3, start=4))
    due_now()
    wait_until(lambda: len(uids()) == 7, what="the second sync")
    with mailbox.client() as client:
        client.select_folder("INBOX")
        client.delete_messages([3])
        client.expunge()
    due_now()
    wait_until(lambda: (3, True) in uids(), what="the vanished message marked")

    assert uids() == [(1, False), (2, False), (3, True), (4, False), (5, False), (6, False), (7, False)]
    # The vanished mark shows before its job records that it finished: wait for the job, not a moment.
    jobs = wait_until(lambda: [rows for rows in [db(
        "SELECT created_at, finished_at, state FROM mail_import.jobs WHERE account_id = %s ORDER BY id", account_id)]
        if all(state not in ("queued", "running") for _, _, state in rows)], what="the last sync job finished")[0]
    assert len(jobs) >= 3 and all(state == "done" for _, _, state in jobs)
    # never two at once: each job starts after the previous one finished
    assert all(later[0] >= earlier[1] for earlier, later in zip(jobs, jobs[1:]))
    api_json(api, f"/api/accounts/{account_id}/sync", token, "PUT", json={"minutes": None})
    due_now()
    assert db("SELECT sync_minutes FROM mail_import.accounts WHERE id = %s", account_id) == [(None,)]
    assert account_id not in schedule.claim_due()


def test_a_tarpit_account_does_not_hold_up_another_import(sync_cloud, dovecot, db, new_account):
    api = sync_cloud.api_url("MailImportApi")
    server = FakeServer(tarpit)
    try:
        # Stored directly: the API logs in before it stores an account, and a tarpit never lets it.
        slow_id, slow_token = new_account(Mailbox("127.0.0.1", server.port, "x", "y"))
        slow = {"id": slow_id, "token": slow_token}
        api_json(api, f"/api/accounts/{slow['id']}/import", slow["token"], "POST")
        wait_until(lambda: db("SELECT state FROM mail_import.jobs WHERE account_id = %s", slow["id"])
                   == [("running",)], what="the tarpit import to start")
        mailbox = dovecot.new_mailbox("beside")
        mailbox.fill("INBOX", numbered(5))
        fast = requests.post(f"{api}/api/accounts", json=mailbox.account_input(), timeout=30).json()
        api_json(api, f"/api/accounts/{fast['id']}/import", fast["token"], "POST")

        done = wait_until(lambda: api_json(api, f"/api/accounts/{fast['id']}", fast["token"])["job"]["state"]
                          == "done", what="the other import")
        assert done and db("SELECT state FROM mail_import.jobs WHERE account_id = %s", slow["id"]) == [("running",)]
        failed = wait_until(lambda: (api_json(api, f"/api/accounts/{slow['id']}", slow["token"])["job"]
                                     if db("SELECT state FROM mail_import.jobs WHERE account_id = %s", slow["id"])
                                     == [("error",)] else None), timeout=90, what="the tarpit cut off")
        assert "too slowly" in failed["error"]
    finally:
        server.close()


def test_the_template_lets_imports_run_side_by_side_and_schedules_the_sync_every_minute():
    from pathlib import Path

    from localcloud.template import Stack
    stack = Stack(Path(__file__).resolve().parents[2] / "template.yaml", {"ImapAllowedHosts": ""})
    [worker] = [m for m in stack.sqs_mappings() if m.function_id == "MailImportWorkerFunction"]
    assert worker.max_concurrency >= 2  # the local poller runs that many invocations at once
    assert [(s.function_id, s.expression) for s in stack.schedules() if s.function_id == "MailImportSyncFunction"] \
        == [("MailImportSyncFunction", "rate(1 minute)")]


def test_idle_time_between_commands_does_not_count_as_a_slow_server():
    now = [0.0]
    pace = Pace(100, min_rate=256, grace=2, clock=lambda: now[0])
    pace.count(2000, waited=1.0)     # a quick answer ...
    now[0] = 60.0                    # ... then a minute idle while child processes fetch
    assert pace.left() == 40.0
    pace.count(10, waited=20.0)      # then a server that drips: 2,010 bytes in 21 s of waiting
    with pytest.raises(TooSlow, match="too slowly"):
        pace.left()
    deadline = Pace(5, min_rate=0, grace=0, clock=lambda: now[0])
    now[0] = 66.0
    with pytest.raises(TooSlow, match="too long"):
        deadline.left()
