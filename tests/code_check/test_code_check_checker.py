"""The scheduled checker against real PostgreSQL, moto S3/SQS and real flake8."""
import json
import threading
import time

import boto3
import pytest

from functions.code_check.chalicelib.checks import report, runner, tick
from functions.code_check.chalicelib.files import store


def upload(tx, settings, user, name, data):
    with tx() as cur:
        return store.upload(cur, settings.bucket, user, name, data)


def checks_of(tx, file_id):
    with tx() as cur:
        cur.execute("""SELECT v.number, c.outcome, c.problem_count, c.error, c.email_state
                       FROM code_check.checks c JOIN code_check.versions v ON v.id = c.version_id
                       WHERE v.file_id = %s ORDER BY c.id""", (file_id,))
        return cur.fetchall()


def queued_check_ids(settings):
    sqs = boto3.client("sqs")
    found = []
    while True:
        got = sqs.receive_message(QueueUrl=settings.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        messages = got.get("Messages", [])
        if not messages:
            return found
        for message in messages:
            found.append(json.loads(message["Body"])["check_id"])
            sqs.delete_message(QueueUrl=settings.queue_url, ReceiptHandle=message["ReceiptHandle"])


def test_tick_checks_stores_every_violation_and_queues_one_email(tx, cc_settings, make_user):
    queued_check_ids(cc_settings)
    user = make_user()
    stored = upload(tx, cc_settings, user, "t.py", b"import os\nx=1\n")
    result = tick.tick(cc_settings)
    assert result["checked"] == 1 and result["failed"] == 0
    assert checks_of(tx, stored.file_id) == [(1, "problems", 2, None, "pending")]
    with tx() as cur:
        cur.execute("""SELECT c.id, x.code, x.line, x.col, x.message, x.source_line, c.started_at <= c.finished_at,
                              c.options->>'max_line_length', v.checked_at IS NOT NULL, c.email_enqueued_at IS NOT NULL
                       FROM code_check.violations x JOIN code_check.checks c ON c.id = x.check_id
                       JOIN code_check.versions v ON v.id = c.version_id
                       WHERE v.file_id = %s ORDER BY x.line""", (stored.file_id,))
        rows = cur.fetchall()
    assert [r[1:] for r in rows] == [
        ("F401", 1, 1, "'os' imported but unused", "import os", True, "100", True, True),
        ("E225", 2, 2, "missing whitespace around operator", "x=1", True, "100", True, True)]
    assert queued_check_ids(cc_settings) == [rows[0][0]]
    assert tick.tick(cc_settings)["checked"] == 0          # checked versions are never checked again


def test_two_ticks_at_once_check_each_version_once(tx, cc_settings, make_user, monkeypatch):
    user = make_user()
    files = [upload(tx, cc_settings, user, f"c{i}.py", f"x{i}=1\n".encode()) for i in range(6)]
    real = runner.check_isolated
    started = threading.Barrier(2, timeout=30)

    def slow(sources, **kwargs):
        started.wait()              # both ticks hold their claims at the same time
        time.sleep(0.5)
        return real(sources, **kwargs)
    monkeypatch.setattr(runner, "check_isolated", slow)
    results = []
    threads = [threading.Thread(target=lambda: results.append(tick.tick(cc_settings, batch_size=3)))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(r["checked"] for r in results) == [3, 3]
    for stored in files:
        assert checks_of(tx, stored.file_id) == [(1, "problems", 1, None, "pending")]


def test_checker_failure_is_stored_and_retried_next_tick(tx, cc_settings, make_user, monkeypatch):
    user = make_user()
    stored = upload(tx, cc_settings, user, "f.py", b"x = 1\n")

    def broken(sources, **kwargs):
        raise runner.CheckerError("plugin crashed")
    monkeypatch.setattr(runner, "check_isolated", broken)
    assert tick.tick(cc_settings)["failed"] == 1
    assert checks_of(tx, stored.file_id) == [(1, "error", 0, "checker error: plugin crashed", "none")]
    monkeypatch.undo()
    assert tick.tick(cc_settings)["checked"] == 1
    assert [row[1] for row in checks_of(tx, stored.file_id)] == ["error", "ok"]


def test_unreadable_bytes_fail_only_their_own_check(tx, cc_settings, make_user):
    user = make_user()
    good = upload(tx, cc_settings, user, "good.py", b"x = 1\n")
    bad = upload(tx, cc_settings, user, "bad.py", b"y = 1\n")
    with tx() as cur:
        cur.execute("UPDATE code_check.versions SET s3_version_id = 'no-such-version' WHERE file_id = %s",
                    (bad.file_id,))
    result = tick.tick(cc_settings)
    assert (result["checked"], result["failed"]) == (1, 1)
    assert checks_of(tx, good.file_id)[0][1] == "ok"
    assert checks_of(tx, bad.file_id)[0][1] == "error"


def test_deleted_files_are_not_checked(tx, cc_settings, make_user):
    user = make_user()
    stored = upload(tx, cc_settings, user, "gone.py", b"x=1\n")
    with tx() as cur:
        store.delete(cur, user, stored.file_id)
    assert tick.tick(cc_settings)["checked"] == 0
    assert checks_of(tx, stored.file_id) == []


def test_new_remaining_and_fixed_between_versions(tx, cc_settings, make_user):
    user = make_user()
    first = upload(tx, cc_settings, user, "m.py", b"import os\nx=1\ny = 2 \n")
    tick.tick(cc_settings)
    # Two lines added on top (every line number moves), E225 fixed, W291 remains, a new E231.
    upload(tx, cc_settings, user, "m.py", b'"""Doc."""\nimport os\n\nx = 1\ny = 2 \nz = [1,2]\n')
    tick.tick(cc_settings)
    with tx() as cur:
        version = store.get_version(cur, user, first.file_id, 2)
        found = report.version_report(cur, first.file_id, version)
    assert found["compared_with"] == 1
    assert sorted((v["code"], v["line"], v["new"]) for v in found["violations"]) == [
        ("E231", 6, True), ("F401", 2, False), ("W291", 5, False)]
    assert [(v["code"], v["source_line"]) for v in found["fixed"]] == [("E225", "x=1")]


def test_an_enqueue_lost_after_the_commit_is_sent_by_a_later_tick(tx, cc_settings, make_user, monkeypatch):
    queued_check_ids(cc_settings)
    user = make_user()
    stored = upload(tx, cc_settings, user, "q.py", b"x = 1\n")

    class DownSqs:
        def send_message_batch(self, **kwargs):
            raise ConnectionError("sqs down")
    real_client = tick.queue.client
    monkeypatch.setattr(tick.queue, "client", lambda: DownSqs())
    assert tick.tick(cc_settings)["enqueued"] == 0
    monkeypatch.setattr(tick.queue, "client", real_client)
    monkeypatch.setattr(tick, "REQUEUE_AFTER", 0)
    enqueued = tick.tick(cc_settings)["enqueued"]
    with tx() as cur:
        cur.execute("""SELECT c.id FROM code_check.checks c JOIN code_check.versions v ON v.id = c.version_id
                       WHERE v.file_id = %s""", (stored.file_id,))
        check_id = cur.fetchone()[0]
    # The queue was emptied at the start: what is on it now is this tick's (other tests' lost enqueues included),
    # and the tick counts exactly what it put there.
    queued = queued_check_ids(cc_settings)
    assert check_id in queued and enqueued == len(queued)


@pytest.fixture(autouse=True)
def _no_leftover_claims(conn):
    yield
    conn.rollback()
