"""An import through the local cloud survives real faults and finishes soon after the last one (issue 28).

Real processes: the worker running a chunk is SIGKILLed from outside, then its fetch children, then every
connection to the database is cut for a few seconds (pg_terminate_backend, our own database only: the server is
shared, so it is never restarted). The template's queue settings and the worker's heartbeat apply as they are.
"""
import os
import signal
import threading
import time
from pathlib import Path

import boto3
import psycopg2
import requests
from mail_import_corpus import make_message

from mail_import_support import FUNCTIONS
from waiting import wait_until

FAULTS = str(Path(__file__).resolve().parent / "mail_import_faults.py")
MESSAGES = 3000
RECOVERY_SECONDS = 90     # from the last fault to the job's end (issue 28)
# From a killed worker to stored messages again: at worst the heartbeat's 60 s visibility, then the lapsed 15 s
# lease taken over at once.
RESUME_SECONDS = 75


def process_tree(pid):
    """{pid: [child pids]} of the running (not zombie) processes."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def fetch_children(worker_pid):
    """The worker's fetch processes: the children of its forkserver (the worker's own child)."""
    tree = process_tree(worker_pid)
    return [child for server in tree.get(worker_pid, []) for child in tree.get(server, [])]


class JobWatch:
    """Polls the account's job from its own connection: every state seen, whether the job ever said it was
    retrying after an interruption, and when it ended."""

    def __init__(self, pg_url, account_id):
        self.pg_url, self.account_id = pg_url, account_id
        self.states, self.interrupted, self.imported, self.ended = set(), False, 0, None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        conn = None
        while not self.stop.wait(0.2):
            try:
                if conn is None:
                    conn = psycopg2.connect(self.pg_url)
                    conn.autocommit = True
                with conn.cursor() as cur:
                    cur.execute("SELECT state, imported, interrupted OR (lease_owner IS NOT NULL AND "
                                "lease_until < now()) FROM mail_import.jobs WHERE account_id = %s "
                                "ORDER BY id DESC LIMIT 1",
                                (self.account_id,))
                    row = cur.fetchone()
            except psycopg2.Error:      # our own cuts reach this connection too
                conn = None
                continue
            if row:
                self.states.add(row[0])
                self.imported = row[1]
                self.interrupted |= row[2]
                if row[0] not in ("queued", "running") and self.ended is None:
                    self.ended = time.monotonic()


def imported(db, account_id):
    return db("SELECT imported FROM mail_import.jobs WHERE account_id = %s", account_id)[0][0]


# libpq names every connection the cloud's functions (and their fetch children) open after this variable, so the
# cut below reaches them and not the suite's own connections to the same database (other tests' fixtures).
APP_NAME = "mail-import-recovery-cloud"


def cut_database(db, seconds):
    """Every connection of the cloud's functions cut, again and again, for `seconds`: what a database restart
    looks like to the functions (the shared server itself is never restarted)."""
    cut, until = 0, time.monotonic() + seconds
    while time.monotonic() < until:
        cut += len(db("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = current_database() AND application_name = %s", APP_NAME))
        time.sleep(0.05)
    return cut


def test_an_import_finishes_soon_after_killed_workers_killed_children_and_a_database_restart(
        dovecot, start_cloud, tmp_path, db, pg_url):
    pid_file = tmp_path / "worker.pid"
    cloud = start_cloud(functions=FUNCTIONS, env={
        "MAIL_IMPORT_BATCH": "10", "MAIL_IMPORT_CHUNK_SECONDS": "10", "LOCAL_PRELOAD": FAULTS,
        "FAULT_COMMIT_PAUSE": "0.04", "FAULT_PID_FILE": str(pid_file), "PGAPPNAME": APP_NAME})
    api = cloud.api_url("MailImportApi")
    mailbox = dovecot.new_mailbox("recovery")
    mailbox.fill("INBOX", [make_message(40000 + i, i % 100 == 0) for i in range(MESSAGES)])
    created = requests.post(f"{api}/api/accounts", json=mailbox.account_input(), timeout=30).json()
    account_id, token = created["id"], created["token"]
    headers = {"Authorization": f"Bearer {token}"}
    requests.post(f"{api}/api/accounts/{account_id}/import", headers=headers, timeout=30)
    watch = JobWatch(pg_url, account_id)
    try:
        # 1. The worker running the chunk, killed from outside; its fetch children must not outlive it.
        wait_until(lambda: watch.imported >= 300, 60, "300 messages stored")
        worker = int(pid_file.read_text())
        children = wait_until(lambda: fetch_children(worker), 10, "the worker's fetch children")
        os.kill(worker, signal.SIGKILL)
        killed_at = time.monotonic()
        wait_until(lambda: not any(alive(pid) for pid in [worker, *children]), 5, "the worker and its children gone")
        stored = imported(db, account_id)       # what the dead worker committed (the watch may lag behind)
        wait_until(lambda: watch.imported > stored, RESUME_SECONDS, "the import resuming after the worker's death")
        resumed_after_kill = time.monotonic() - killed_at
        print(f"resumed {resumed_after_kill:.1f} s after the worker's kill")
        assert watch.interrupted        # meanwhile the job said "retrying after an interruption"

        # 2. The fetch children of the worker that took over, killed; the worker itself lives on.
        wait_until(lambda: watch.imported >= 1200, 60, "1200 messages stored")
        worker = int(pid_file.read_text())
        children = wait_until(lambda: fetch_children(worker), 10, "the new worker's fetch children")
        for child in children:
            os.kill(child, signal.SIGKILL)
        time.sleep(0.5)
        stored = imported(db, account_id)
        wait_until(lambda: watch.imported > stored, 30, "the import resuming after its children's death")
        assert alive(worker)

        # 3. A database "restart": every connection of our database cut for 3 s.
        wait_until(lambda: watch.imported >= 2000, 60, "2000 messages stored")
        assert cut_database(db, 3.0) > 0
        last_fault = time.monotonic()

        wait_until(lambda: watch.ended, RECOVERY_SECONDS, "the job's end within 90 s of the last fault")
        finished_after = watch.ended - last_fault
    finally:
        watch.stop.set()
        watch.thread.join(5)

    print(f"done {finished_after:.1f} s after the last fault")
    assert watch.states <= {"queued", "running", "done"}       # never `error`, not even for a moment
    job = db("SELECT state, imported, failures, interrupted FROM mail_import.jobs WHERE account_id = %s", account_id)
    assert job == [("done", MESSAGES, 0, False)]               # the deaths spent none of the attempts
    rows = db("SELECT uid, count(*) FROM mail_import.messages WHERE account_id = %s GROUP BY uid", account_id)
    assert sorted(uid for uid, _n in rows) == list(range(1, MESSAGES + 1))   # nothing lost ...
    assert all(n == 1 for _uid, n in rows)                                   # ... nothing twice
    assert db("SELECT count(DISTINCT message_id) FROM mail_import.messages WHERE account_id = %s",
              account_id) == [(MESSAGES,)]
    dead = boto3.client("sqs").get_queue_attributes(
        QueueUrl=cloud.physical_id("MailImportDeadLetterQueue"),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    assert dead == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}
