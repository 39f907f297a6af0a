"""The import engine against real Dovecot, PostgreSQL and moto S3, driven through app.import_worker."""
import hashlib
import re
import time
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from fake_imap import RejectingImapServer
from mail_import_corpus import CASES, make_message

from common import batch
from functions.mail_import.chalicelib.engine import (fetch_child, fetch_pool, fetching, job_records, jobs, planning,
                                                     receiving)
from functions.mail_import.chalicelib.engine.failures import ImportFailure
from functions.mail_import.chalicelib.mime import message_rows
from functions.mail_import.chalicelib.mime.parser import parse_message
from mail_import_faults import CrashAfterCommits, silent_child
from mail_import_support import ALL_MAIL, LambdaContext

MESSAGE_COLUMNS = ("uid, message_id, subject, sent_at, received_at, sender, recipients, text, size, folder, "
                   "uidvalidity, id")


def stored(db, account_id):
    """{uid: row dict} of an account's messages."""
    names = [n.strip() for n in MESSAGE_COLUMNS.split(",")]
    found = db(f"SELECT {MESSAGE_COLUMNS} FROM mail_import.messages WHERE account_id = %s ORDER BY id", account_id)
    return {r[0]: dict(zip(names, r)) for r in found}


def attachments_of(db, message_pk):
    return db("SELECT filename, content_type, content_id, inline, size, storage_key FROM mail_import.attachments "
              "WHERE message_id = %s ORDER BY position", message_pk)


def s3_bytes(bucket, key):
    """The bytes an attachment's key names: a slice "<object>#<offset>+<length>" of one S3 object."""
    name, _, part = key.partition("#")
    offset, length = (int(n) for n in part.split("+"))
    whole = boto3.client("s3").get_object(Bucket=bucket, Key=name)["Body"].read() if length else b""
    return whole[offset:offset + length]


def served(mailbox, folder="INBOX"):
    """{uid: the exact bytes the server serves}: IMAP turns bare LF into CRLF, so they can differ from the APPENDed."""
    with mailbox.client() as client:
        client.select_folder(folder, readonly=True)
        return {uid: data[b"BODY[]"] for uid, data in client.fetch(client.search(["ALL"]), [b"BODY.PEEK[]"]).items()}


def numbered(count, start=0, attachment_every=0):
    return [make_message(i, bool(attachment_every) and i % attachment_every == 0) for i in range(start, start + count)]


# ---- what lands in PostgreSQL and S3 --------------------------------------------------------------

def test_every_corpus_case_lands_byte_for_byte(dovecot, new_account, run_import, db, mail_env):
    mailbox = dovecot.new_mailbox("corpus")
    when = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone(timedelta(hours=3)))
    case_of_uid, rejected = {}, []
    with mailbox.client() as client:
        for case in CASES:
            try:
                answer = client.append("INBOX", case.raw, msg_time=when)
            except Exception:
                rejected.append(case.name)  # IMAP cannot carry it at all (e.g. a zero-byte message)
                continue
            case_of_uid[int(re.search(rb"APPENDUID \d+ (\d+)", answer).group(1))] = case
    assert rejected == ["empty"]
    account_id, _token = new_account(mailbox)

    run = run_import(account_id)

    assert run.job["state"] == "done" and not run.failures
    by_uid, raw_of = stored(db, account_id), served(mailbox)
    first_with_id, expected_uids = {}, set()
    for uid in sorted(case_of_uid):      # a Message-ID already stored is not stored again
        message_id = parse_message(raw_of[uid]).message_id
        if message_id is None or first_with_id.setdefault(message_id, uid) == uid:
            expected_uids.add(uid)
    assert set(by_uid) == expected_uids
    for uid, row in by_uid.items():
        case, raw = case_of_uid[uid], raw_of[uid]
        parsed = parse_message(raw)
        assert row["message_id"] == parsed.message_id, case.name
        assert row["subject"] == parsed.subject and row["sender"] == parsed.sender, case.name
        assert row["recipients"] == {"to": parsed.to, "cc": parsed.cc}, case.name
        assert row["sent_at"] == parsed.sent_at, case.name
        assert row["text"] == message_rows.clean(parsed.text), case.name
        assert row["received_at"] == when and row["size"] == len(raw), case.name
        assert row["folder"] == "INBOX", case.name
        if raw == case.raw:  # transported unchanged: the corpus' own expectations hold for the stored row
            for field in ("message_id", "subject", "sender", "sent_at"):
                assert row[field] == case.expected[field], (case.name, field)
            assert row["recipients"] == {"to": case.expected["to"], "cc": case.expected["cc"]}, case.name
            if "text" in case.expected:
                assert row["text"] == case.expected["text"], case.name
        found = attachments_of(db, row["id"])
        assert len(found) == len(parsed.attachments), case.name
        for (filename, ctype, cid, inline, size, key), want in zip(found, parsed.attachments):
            content = s3_bytes(mail_env["bucket"], key)
            assert content == want.content and size == len(content), case.name
            assert (filename, ctype, cid, inline) == (want.filename, want.content_type, want.content_id, want.inline)
        if raw == case.raw:
            for (filename, ctype, _cid, _inline, _size, key), want in zip(found, case.expected["attachments"]):
                content = s3_bytes(mail_env["bucket"], key)
                assert (filename, ctype) == want[:2], case.name
                assert (hashlib.sha256(content).hexdigest() if isinstance(want[2], str) else content) == want[2]


def test_generated_mailbox_with_attachments_in_several_processes(dovecot, new_account, run_import, db, mail_env,
                                                                 monkeypatch):
    mailbox = dovecot.new_mailbox("gen")
    mailbox.fill("INBOX", numbered(120, attachment_every=10))
    account_id, _ = new_account(mailbox)
    monkeypatch.setenv("MAIL_IMPORT_BATCH", "15")        # batches over 2 child processes ...
    monkeypatch.setenv("MAIL_IMPORT_BATCH_BYTES", str(600_000))   # ... cut short by the big messages
    monkeypatch.setenv("MAIL_IMPORT_PROCESSES", "2")

    run = run_import(account_id)

    assert run.job["state"] == "done" and run.job["imported"] == 120
    by_uid, raw_of = stored(db, account_id), served(mailbox)
    assert sorted(by_uid) == sorted(raw_of)
    for uid, raw in raw_of.items():
        parsed = parse_message(raw)
        assert by_uid[uid]["message_id"] == parsed.message_id
        found = attachments_of(db, by_uid[uid]["id"])
        assert [s3_bytes(mail_env["bucket"], a[5]) for a in found] == [a.content for a in parsed.attachments]
    assert sum(len(attachments_of(db, r["id"])) for r in by_uid.values()) == 12


def test_batches_respect_both_the_count_and_the_byte_limit():
    sizes = {1: 10, 2: 10, 3: 500, 4: 10, 5: 10, 6: 10, 7: 10, 8: 2000, 9: 10}

    batches = fetching.make_batches(list(range(1, 10)), sizes, max_count=3, max_bytes=600)

    assert batches == [[1, 2, 3], [4, 5, 6], [7], [8], [9]]
    assert fetching.make_batches([], {}, 3, 600) == []


def test_without_child_processes_the_handler_fetches_by_itself(dovecot, new_account, run_import, db, monkeypatch):
    def no_fork(*_args):
        raise OSError(38, "Function not implemented")
    mailbox = dovecot.new_mailbox("nofork")
    mailbox.fill("INBOX", numbered(25, start=500, attachment_every=5))
    account_id, _ = new_account(mailbox)
    monkeypatch.setenv("MAIL_IMPORT_BATCH", "5")
    monkeypatch.setattr(receiving, "ProcessPool", no_fork)

    run = run_import(account_id)

    assert run.job["state"] == "done" and run.job["imported"] == 25 and not run.failures
    assert db("SELECT count(*) FROM mail_import.attachments a JOIN mail_import.messages m ON m.id = a.message_id "
              "WHERE m.account_id = %s", account_id) == [(5,)]


# ---- phase 1: where to resume -------------------------------------------------------------------

def test_resume_fetches_only_new_messages_with_a_constant_number_of_commands(dovecot, new_account, run_import, db):
    small, large = dovecot.new_mailbox("small"), dovecot.new_mailbox("large")
    small.fill("INBOX", numbered(5))
    large.fill("INBOX", numbered(400))
    small_id, _ = new_account(small)
    large_id, _ = new_account(large)
    assert run_import(small_id).job["imported"] == 5
    assert run_import(large_id).job["imported"] == 400

    resumed = {name: run_import(account).job for name, account in (("small", small_id), ("large", large_id))}
    large.fill("INBOX", numbered(7, start=400))
    grown = run_import(large_id).job

    assert resumed["small"]["imported"] == resumed["large"]["imported"] == 0
    assert resumed["small"]["imap_commands"] == resumed["large"]["imap_commands"] <= 6
    assert grown["imported"] == 7 and grown["total"] == 7
    uids = sorted(stored(db, large_id))
    assert uids == list(range(1, 408))


def test_uidvalidity_change_scans_back_only_until_known_messages(dovecot, new_account, run_import, db,
                                                                 monkeypatch):
    mailbox = dovecot.new_mailbox("uv")
    old = numbered(30, start=1000)
    mailbox.fill("Work", old)
    account_id, _ = new_account(mailbox, folders="Work")
    assert run_import(account_id).job["imported"] == 30
    (first_validity,) = db("SELECT uidvalidity FROM mail_import.folders WHERE account_id = %s", account_id)[0]
    with mailbox.client() as client:      # the server rebuilds the folder: new UIDVALIDITY, new UIDs
        client.delete_folder("Work")
    fresh = numbered(5, start=2000)
    mailbox.fill("Work", old + fresh)
    monkeypatch.setattr(planning, "SCAN_BATCH", 10)

    job = run_import(account_id).job

    assert job["state"] == "done" and job["imported"] == 5
    assert job["checked"] == 20                          # the newest 10 (5 new), then 10 known: stop
    (validity, last_uid), = db("SELECT uidvalidity, last_uid FROM mail_import.folders WHERE account_id = %s",
                               account_id)
    assert validity != first_validity and last_uid == 35
    ids = db("SELECT message_id, count(*) FROM mail_import.messages WHERE account_id = %s GROUP BY 1", account_id)
    assert len(ids) == 35 and all(n == 1 for _m, n in ids)
    new_rows = db("SELECT uid FROM mail_import.messages WHERE account_id = %s AND uidvalidity = %s ORDER BY uid",
                  account_id, validity)
    assert [r[0] for r in new_rows] == [31, 32, 33, 34, 35]
    assert run_import(account_id).job["imported"] == 0   # and the next import is back on the fast path


def test_same_message_id_in_two_folders_is_stored_once(dovecot, new_account, run_import, db):
    mailbox = dovecot.new_mailbox("dup")
    shared = numbered(3, start=3000)
    mailbox.fill("INBOX", shared)
    mailbox.fill("Копии", shared + numbered(1, start=3100))
    account_id, _ = new_account(mailbox, folders="INBOX\nКопии")

    job = run_import(account_id).job

    assert job["state"] == "done" and job["imported"] == 4
    folders = db("SELECT folder, count(*) FROM mail_import.messages WHERE account_id = %s GROUP BY 1 ORDER BY 1",
                 account_id)
    assert folders == [("INBOX", 3), ("Копии", 1)]


def test_cyrillic_folder_name_is_stored_decoded(dovecot, new_account, run_import, db):
    mailbox = dovecot.new_mailbox("cyr")
    mailbox.fill("Архив.Проекты", numbered(4, start=4000))
    account_id, _ = new_account(mailbox, folders="Архив.Проекты")

    assert run_import(account_id).job["imported"] == 4
    assert db("SELECT DISTINCT folder FROM mail_import.messages WHERE account_id = %s", account_id) == [
        ("Архив.Проекты",)]
    assert db("SELECT name FROM mail_import.folders WHERE account_id = %s", account_id) == [("Архив.Проекты",)]


def test_all_mail_is_found_by_its_special_use_flag_not_its_name(dovecot, new_account, run_import, db):
    mailbox = dovecot.new_mailbox("gmail")
    mailbox.fill("INBOX", numbered(2, start=5000))
    mailbox.fill(ALL_MAIL, numbered(6, start=5000))
    account_id, _ = new_account(mailbox)

    job = run_import(account_id).job

    assert job["folders"] == [ALL_MAIL] and job["imported"] == 6
    assert db("SELECT DISTINCT folder FROM mail_import.messages WHERE account_id = %s", account_id) == [(ALL_MAIL,)]


# ---- resumable chunks -----------------------------------------------------------------------------

def test_crash_after_a_commit_resumes_from_the_checkpoint(dovecot, new_account, run_import, db, monkeypatch):
    mailbox = dovecot.new_mailbox("crash")
    mailbox.fill("INBOX", numbered(60, attachment_every=7))
    account_id, _ = new_account(mailbox)
    monkeypatch.setenv("MAIL_IMPORT_BATCH", "10")
    crash = CrashAfterCommits.install(monkeypatch, 2)

    crashed = run_import(account_id, max_deliveries=1)

    assert crash.fired == 1 and len(crashed.failures) == 1       # the delivery failed: SQS delivers it again
    assert crashed.job["state"] == "running"
    # The two batches committed before the crash are in, with the checkpoint that came in their transaction.
    assert db("SELECT count(*), max(uid) FROM mail_import.messages WHERE account_id = %s", account_id) == [(20, 20)]
    assert db("SELECT last_uid FROM mail_import.folders WHERE account_id = %s", account_id) == [(20,)]

    resumed = run_import(account_id)      # the same message, delivered again

    assert resumed.deliveries == 1 and not resumed.failures and resumed.job["state"] == "done"
    uids = db("SELECT uid, count(*) FROM mail_import.messages WHERE account_id = %s GROUP BY 1", account_id)
    assert sorted(u for u, _n in uids) == list(range(1, 61)) and all(n == 1 for _u, n in uids)
    assert resumed.job["imported"] == 60


def test_chunks_continue_through_the_queue_and_stale_messages_are_no_ops(
        dovecot, new_account, run_import, db, monkeypatch, app_module):
    mailbox = dovecot.new_mailbox("chunks")
    mailbox.fill("INBOX", numbered(45))
    account_id, _ = new_account(mailbox)
    monkeypatch.setenv("MAIL_IMPORT_BATCH", "10")
    monkeypatch.setenv("MAIL_IMPORT_CHUNK_MESSAGES", "20")

    run = run_import(account_id)

    assert run.job["state"] == "done" and run.job["imported"] == 45
    assert run.deliveries == 3 and run.job["chunks"] == 2    # chunks 0, 1 and 2 (the last one finished)
    stale = {"Records": [{"messageId": "m1", "receiptHandle": "r", "body": f'{{"job": {run.job["id"]}, "seq": 1}}',
                          "attributes": {"ApproximateReceiveCount": "1"}}]}
    assert app_module.import_worker(stale, LambdaContext()) == {"batchItemFailures": []}
    assert db("SELECT count(*) FROM mail_import.messages WHERE account_id = %s", account_id) == [(45,)]


def test_a_second_start_joins_the_running_job_and_a_leased_job_hands_its_message_back(
        dovecot, new_account, app_module):
    mailbox = dovecot.new_mailbox("lease")
    account_id, _ = new_account(mailbox)
    job = jobs.start(account_id)
    assert jobs.start(account_id)["id"] == job["id"]
    assert job_records.lease(job["id"], 0, "00000000-0000-0000-0000-000000000001", 60) is not None
    message = {"Records": [{"messageId": "m2", "receiptHandle": "r", "body": f'{{"job": {job["id"]}, "seq": 0}}',
                            "attributes": {"ApproximateReceiveCount": "1"}}]}
    assert app_module.import_worker(message, LambdaContext()) == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    with pytest.raises(batch.Retry) as busy:
        jobs.handle(message["Records"][0]["body"], 1, 120_000)
    assert 55 <= busy.value.delay <= 62      # back when the holder's 60 s lease has ended, not before
    job_records.finish(job["id"], "error", ImportFailure("stopped by the test"))


# ---- errors the user can act on -------------------------------------------------------------------

@pytest.fixture(scope="module")
def rejecting_server():
    server = RejectingImapServer()
    yield server
    server.close()


def closed_port():
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("name, fields, expected", [
    ("wrong_password", lambda d, m, f: {"password": "not-the-password"}, "Wrong login or password"),
    ("refused", lambda d, m, f: {"port": str(closed_port())}, "connection refused"),
    ("unknown_host", lambda d, m, f: {"host": "no-such-host.invalid"}, "host not found"),
    ("tls_on_plain_port", lambda d, m, f: {"ssl": "on"}, "TLS error"),
    ("self_signed", lambda d, m, f: {"ssl": "on", "port": str(d.ssl_port)}, "certificate is not trusted"),
    ("imap_disabled", lambda d, m, f: {"port": str(f.port)}, "IMAP access is disabled"),
    ("missing_folder", lambda d, m, f: {"folders": "Нет такой"}, "cannot be opened"),
])
def test_failures_mark_the_account_with_a_clear_message(
        name, fields, expected, dovecot, new_account, run_import, db, rejecting_server, caplog):
    mailbox = dovecot.new_mailbox(name)
    account_id, _ = new_account(mailbox, **fields(dovecot, mailbox, rejecting_server))

    run = run_import(account_id)

    assert run.job["state"] == "error" and not run.failures
    assert expected in run.job["error"] and "Traceback" not in run.job["error"]
    # A login that stopped working is marked apart: the schedule stops syncing it until it is fixed.
    status = "auth_failed" if name in ("wrong_password", "imap_disabled") else "error"
    assert db("SELECT status, error FROM mail_import.accounts WHERE id = %s", account_id) == [
        (status, run.job["error"])]
    assert mailbox.password not in caplog.text and mailbox.password not in run.job["error"]


def test_rows_quoted_by_the_fetch_processes_store_every_character_exactly(dovecot, new_account, run_import, db,
                                                                          monkeypatch):
    # Backslashes, quotes, percent signs, tabs and non-ASCII in every quoted column: the fetch processes quote
    # the rows (their own connection), the parent only sends them.
    tricky = "C:\\new\\table 'quoted' \"double\" 100% %s %(x)s\ttab \\x00 ёжик E'\\\\'"
    letters = [(f"From: \"O'Brien \\\\ Co\" <ob-{n}@example.com>\r\nTo: a@example.com\r\nSubject: {tricky} {n}\r\n"
                f"Message-ID: <quoted-{n}@example.com>\r\nMIME-Version: 1.0\r\n"
                "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                f"{tricky}\r\nline two {n}\r\n").encode() for n in range(6)]
    mailbox = dovecot.new_mailbox("quoted")
    mailbox.fill("INBOX", letters)
    account_id, _ = new_account(mailbox)
    monkeypatch.setenv("MAIL_IMPORT_BATCH", "2")
    monkeypatch.setenv("MAIL_IMPORT_PROCESSES", "2")
    assert run_import(account_id).job["imported"] == 6
    raw_of = served(mailbox)
    for uid, row in stored(db, account_id).items():
        parsed = parse_message(raw_of[uid])
        assert (row["subject"], row["sender"], row["text"]) == (parsed.subject, parsed.sender, parsed.text)
        assert row["text"].startswith(tricky) and "\\new\\table 'quoted'" in row["subject"]


def test_a_fetch_worker_that_never_answers_fails_the_chunk_instead_of_hanging_it(monkeypatch):
    monkeypatch.setattr(fetch_child, "main", silent_child)   # stuck: alive, silent
    monkeypatch.setattr(fetch_pool, "ANSWER_GRACE", 0.5)
    pool = fetch_pool.ProcessPool(1, None, "INBOX", 1, 1)
    # A silent child would otherwise block this call for its 60 s: the test's own timeout is the backstop.
    with pytest.raises(fetch_pool.WorkerDied, match="did not answer"), pool:
        list(pool.results([[1], [2]], deadline=time.monotonic() + 0.5))
    assert all(not proc.is_alive() for proc, _conn in pool.children)    # killed, not left behind
