"""Recovery of imports from crashes (issue 28) and the per-IMAP-host cap (issue 21.7), below the local cloud:
the job lease, which failures spend attempts, the dead-letter sweep, the fetch children's lifetime."""
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import boto3
import psycopg2
import pytest
import yaml
from mail_import_corpus import make_message

from common import batch
import mail_import_faults

from functions.mail_import.chalicelib.engine import (
    dead_letters, fetch_child, fetch_pool, job_records, jobs, progress)
from functions.mail_import.chalicelib.engine.failures import HostBusy
from functions.mail_import.chalicelib.engine.imap_session import Server
from functions.mail_import.chalicelib.engine.lease import LeaseKeeper
from waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
DEAD = "00000000-0000-0000-0000-00000000dead"


def owner():
    return str(uuid.uuid4())


# ---- the lease -----------------------------------------------------------------------------------

def test_the_lease_is_renewed_while_the_chunk_lives_and_lapses_soon_after_it_stops(dovecot, new_account, mail_env):
    account_id, _ = new_account(dovecot.new_mailbox("lease-keeper"))
    job = jobs.start(account_id)
    holder = owner()
    assert job_records.lease(job["id"], 0, holder, 1.0) is not None
    keeper = LeaseKeeper(job["id"], holder, 1.0).start()
    try:
        time.sleep(2.5)           # 2.5 times the lease: only the renewals keep it
        assert job_records.lease_left(job["id"]) > 0 and keeper.renewals >= 5
        assert job_records.lease(job["id"], 0, owner(), 1.0) is None
    finally:
        keeper.stop()
    time.sleep(1.1)
    # The holder stopped (a kill, a database it cannot reach): the job is free a lease later, not after minutes.
    assert job_records.lease_left(job["id"]) == 0
    assert job_records.lease(job["id"], 0, owner(), 1.0) is not None
    job_records.finish(job["id"], "done")


def test_a_dead_holder_makes_the_job_say_retrying_and_its_takeover_spends_no_attempt(
        dovecot, new_account, run_import, mail_env):
    mailbox = dovecot.new_mailbox("dead-holder")
    mailbox.fill("INBOX", [make_message(70000 + i, False) for i in range(12)])
    account_id, _ = new_account(mailbox)
    job = jobs.start(account_id)
    assert job_records.lease(job["id"], 0, DEAD, 0.5) is not None
    assert not progress.job_event(job_records.get_job(job["id"]))["interrupted"]   # alive, as far as we know
    for _ in range(5):      # five workers killed while holding the chunk: more than MAX_ATTEMPTS and then some
        time.sleep(0.6)
        assert progress.job_event(job_records.get_job(job["id"]))["interrupted"]       # it stopped renewing
        assert job_records.lease(job["id"], 0, DEAD, 0.5)["interrupted"]   # taken over from a holder that died
    time.sleep(0.6)
    run = run_import(account_id)
    assert run.job["state"] == "done" and run.job["imported"] == 12 and not run.failures
    assert run.job["failures"] == 0 and not progress.job_event(run.job)["interrupted"]


def test_a_chunk_delivered_again_to_a_leased_job_marks_it_interrupted(dovecot, new_account, mail_env):
    account_id, _ = new_account(dovecot.new_mailbox("redelivered"))
    job = jobs.start(account_id)
    assert job_records.lease(job["id"], 0, DEAD, 30) is not None   # its holder was killed a moment ago
    body = json.dumps({"job": job["id"], "seq": 0})
    with pytest.raises(batch.Retry):
        jobs.handle(body, 1, 120_000)          # a first delivery (a duplicate): nothing is known to have died
    assert not job_records.get_job(job["id"])["interrupted"]
    with pytest.raises(batch.Retry):
        jobs.handle(body, 2, 120_000)          # back while still leased: its holder stopped beating
    assert job_records.get_job(job["id"])["interrupted"]
    job_records.finish(job["id"], "done")


# ---- which failures spend attempts ---------------------------------------------------------------

class Flaky:
    """ProcessPool.results stand-in failing its first `times` calls with `error`, then the real thing."""

    def __init__(self, real, error, times):
        self.real, self.error, self.times, self.calls = real, error, times, 0

    def __call__(self, pool, batches, deadline):
        self.calls += 1
        if self.calls <= self.times:
            raise type(self.error)(*self.error.args)
        return self.real(pool, batches, deadline)


@pytest.mark.parametrize("death", [fetch_pool.WorkerDied("a fetch worker process died"),
                                   psycopg2.OperationalError("server closed the connection unexpectedly")],
                         ids=["fetch child", "database"])
def test_interruptions_again_and_again_never_fail_the_job(death, dovecot, new_account, run_import, monkeypatch):
    mailbox = dovecot.new_mailbox("children-die")
    mailbox.fill("INBOX", [make_message(71000 + i, i % 4 == 0) for i in range(20)])
    account_id, _ = new_account(mailbox)
    monkeypatch.setenv("MAIL_IMPORT_BATCH", "5")
    monkeypatch.setenv("MAIL_IMPORT_PROCESSES", "2")
    flaky = Flaky(fetch_pool.ProcessPool.results, death, 5)
    monkeypatch.setattr(fetch_pool.ProcessPool, "results", lambda *args: flaky(*args))

    run = run_import(account_id)

    assert flaky.calls == 6 and len(run.failures) == 5          # each death retried the chunk ...
    assert run.job["state"] == "done" and run.job["imported"] == 20 and run.job["failures"] == 0  # ... for free


def test_a_failure_the_code_sees_fails_the_job_after_max_attempts(dovecot, new_account, run_import, monkeypatch):
    mailbox = dovecot.new_mailbox("data-fails")
    mailbox.fill("INBOX", [make_message(72000 + i, False) for i in range(10)])
    account_id, _ = new_account(mailbox)
    monkeypatch.setenv("MAIL_IMPORT_BATCH", "5")
    monkeypatch.setenv("MAIL_IMPORT_PROCESSES", "2")
    flaky = Flaky(fetch_pool.ProcessPool.results, RuntimeError("fetch worker failed: a parser bug"), 100)
    monkeypatch.setattr(fetch_pool.ProcessPool, "results", lambda *args: flaky(*args))

    run = run_import(account_id)

    assert flaky.calls == 3 and len(run.failures) == 2           # MAIL_IMPORT_MAX_ATTEMPTS, counted in the job
    assert run.job["state"] == "error" and run.job["failures"] == 3
    assert "internal error" in run.job["error"]


def test_the_queue_leaves_room_for_deaths_beyond_the_attempts_and_returns_chunks_soon():
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=_CfnLoader)["Resources"]
    queue = template["MailImportQueue"]["Properties"]
    worker = template["MailImportWorkerFunction"]["Properties"]
    attempts = int(worker["Environment"]["Variables"]["MAIL_IMPORT_MAX_ATTEMPTS"])
    assert queue["RedrivePolicy"]["maxReceiveCount"] >= 5 * attempts
    # Lambda's minimum; longer would only delay a chunk whose worker died before its first heartbeat.
    assert queue["VisibilityTimeout"] == worker["Timeout"]


class _CfnLoader(yaml.SafeLoader):
    pass


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


# ---- one IMAP host cannot hold every slot ---------------------------------------------------------

def test_one_imap_host_gets_at_most_its_slots_and_the_rest_waits_requeued(
        dovecot, new_account, db, mail_env, monkeypatch):
    monkeypatch.setenv("MAIL_IMPORT_HOST_SLOTS", "2")
    same = [jobs.start(new_account(dovecot.new_mailbox(f"host-{n}"))[0]) for n in range(3)]
    other_account, _ = new_account(dovecot.new_mailbox("host-other"))
    db("UPDATE mail_import.accounts SET host = 'IMAP.Other.Example' WHERE id = %s", other_account)
    other = jobs.start(other_account)
    holders = [owner(), owner()]
    for job, holder in zip(same, holders):
        assert job_records.lease(job["id"], 0, holder, 30, host_slots=2) is not None
    with pytest.raises(HostBusy):
        job_records.lease(same[2]["id"], 0, owner(), 30, host_slots=2)
    assert job_records.lease_left(same[2]["id"]) == 0                   # refused whole: no lease left behind
    assert job_records.lease(other["id"], 0, owner(), 30, host_slots=2) is not None   # other hosts go on

    # The chunk over the cap is queued again, delayed with jitter, and its own message is done with: waiting
    # for a host spends none of the receives before the dead-letter queue.
    body = json.dumps({"job": same[2]["id"], "seq": 0})
    assert jobs.handle(body, 1, 120_000) is None
    sqs = boto3.client("sqs")
    counts = sqs.get_queue_attributes(QueueUrl=mail_env["queue"], AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessagesDelayed"] == "1"   # beside chunk 0 that jobs.start queued
    assert job_records.get_job(same[2]["id"])["state"] == "queued"

    job_records.release(same[0]["id"], holders[0])                      # a slot frees up
    assert job_records.lease(same[2]["id"], 0, owner(), 30, host_slots=2) is not None
    for job in same + [other]:
        job_records.finish(job["id"], "done")


# ---- the dead-letter queue ------------------------------------------------------------------------

@pytest.fixture
def dead_letter_queue(mail_env, monkeypatch):
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=f"mail-import-dlq-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    monkeypatch.setenv("MAIL_IMPORT_DEAD_LETTER_QUEUE_URL", url)
    yield url
    sqs.delete_queue(QueueUrl=url)


def queue_bodies(url):
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    for m in messages:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    return sorted(m["Body"] for m in messages)


def test_the_sweep_clears_finished_work_from_the_dead_letter_queue_and_recovers_stuck_jobs(
        dovecot, new_account, db, mail_env, dead_letter_queue):
    finished, stuck, hopeless = (jobs.start(new_account(dovecot.new_mailbox(f"dlq-{n}"))[0]) for n in range(3))
    job_records.finish(finished["id"], "done")
    db("UPDATE mail_import.jobs SET failures = 2 WHERE id = %s", hopeless["id"])   # one short of MAX_ATTEMPTS
    sqs = boto3.client("sqs")
    sqs.purge_queue(QueueUrl=mail_env["queue"])
    for body in [{"job": finished["id"], "seq": 0}, {"job": stuck["id"], "seq": 0}, {"job": hopeless["id"], "seq": 0}]:
        sqs.send_message(QueueUrl=dead_letter_queue, MessageBody=json.dumps(body))
    sqs.send_message(QueueUrl=dead_letter_queue, MessageBody="not a chunk")

    assert dead_letters.sweep() == {"cleared": 1, "requeued": 1, "failed": 1}

    left = sqs.get_queue_attributes(QueueUrl=dead_letter_queue, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    assert left == {"ApproximateNumberOfMessages": "1", "ApproximateNumberOfMessagesNotVisible": "0"}
    assert queue_bodies(dead_letter_queue) == ["not a chunk"]          # only what nobody can read stays, in view
    assert queue_bodies(mail_env["queue"]) == [json.dumps({"job": stuck["id"], "seq": 0})]
    stuck_now, hopeless_now = job_records.get_job(stuck["id"]), job_records.get_job(hopeless["id"])
    assert stuck_now["state"] == "queued" and stuck_now["failures"] == 1 and stuck_now["interrupted"]
    assert hopeless_now["state"] == "error" and "internal error" in hopeless_now["error"]
    assert job_records.get_job(finished["id"])["state"] == "done"
    job_records.finish(stuck["id"], "done")


# ---- fetch children ------------------------------------------------------------------------------

ORPHAN_SCRIPT = """
import os, sys, time
from functions.mail_import.chalicelib.engine import fetch_pool
from functions.mail_import.chalicelib.engine.imap_session import Server
pool = fetch_pool.ProcessPool(2, Server("127.0.0.1", int(sys.argv[1]), False, "u", "p"), "INBOX", 1, 1)
print(" ".join(str(proc.pid) for proc, _conn in pool.children), flush=True)
time.sleep(120)
"""


def test_fetch_children_exit_as_soon_as_their_parent_is_killed(mail_env):
    # A server that accepts and never greets: the children wait inside the IMAP login, where only the
    # parent's death can tell them to stop.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "layers" / "common" / "python")]))
    parent = subprocess.Popen([sys.executable, "-c", ORPHAN_SCRIPT, str(silent.getsockname()[1])], cwd=ROOT,
                              env=env, stdout=subprocess.PIPE, text=True)
    try:
        children = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(children) == 2
        time.sleep(1.0)      # both are in their login by now
        assert all(running(pid) for pid in children)
        os.kill(parent.pid, signal.SIGKILL)          # the parent only, not its process group
        parent.wait(5)
        wait_until(lambda: not any(running(pid) for pid in children), 5, "the orphaned fetch children gone")
    finally:
        parent.kill()
        parent.wait()
        silent.close()


def running(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_child_that_died_before_its_batch_is_an_interruption(monkeypatch):
    monkeypatch.setattr(fetch_child, "main", mail_import_faults.dying_child)
    with pytest.raises(fetch_pool.WorkerDied), fetch_pool.ProcessPool(1, None, "INBOX", 1, 1) as pool:
        wait_until(lambda: not pool.children[0][0].is_alive(), 10, "the child dead")
        list(pool.results([[1], [2]], time.monotonic() + 5))     # handing it a batch finds its pipe closed


def test_a_child_that_loses_the_database_is_an_interruption(dovecot, new_account, mail_env, monkeypatch):
    mailbox = dovecot.new_mailbox("child-db")
    mailbox.fill("INBOX", [make_message(74000 + i, False) for i in range(2)])
    account_id, _ = new_account(mailbox)
    with mailbox.client() as client:
        uidvalidity = client.select_folder("INBOX")[b"UIDVALIDITY"]
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:{port}/gone")   # what the child is sent
    server = Server(mailbox.host, mailbox.port, False, mailbox.login, mailbox.password)
    with pytest.raises(fetch_pool.WorkerDied, match="interrupted"), \
            fetch_pool.ProcessPool(1, server, "INBOX", uidvalidity, account_id) as pool:
        list(pool.results([[1], [2]], time.monotonic() + 10))


def test_fetch_children_never_inherit_a_lock_another_thread_holds(monkeypatch):
    # Another thread of the handler's process holds a lock (the commit thread's, a library's) at the moment the
    # children start: a forked child would start with it held forever and never answer.
    monkeypatch.setattr(fetch_child, "main", mail_import_faults.lock_probe_child)
    monkeypatch.setattr(fetch_pool, "ANSWER_GRACE", 5.0)
    held, release = threading.Event(), threading.Event()

    def hold():
        with mail_import_faults.PROBE_LOCK:
            held.set()
            release.wait(30)
    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    held.wait(5)
    try:
        with fetch_pool.ProcessPool(2, None, "INBOX", 1, 1) as pool:
            release_later = threading.Timer(8.0, release.set)   # only after the children had to take the lock
            release_later.start()
            answers = list(pool.results([[1], [2], [3]], time.monotonic() + 1))
        assert answers == ["probe"] * 3
    finally:
        release.set()
        holder.join(5)


class Load:
    """A thread of the parent doing what the handler's other threads do while children start: logging through a
    handler (its lock), allocating, taking a lock of its own. A child forked from this process could inherit any of
    those held; the forkserver's children cannot."""

    def __init__(self, threads=1):
        self.stop = threading.Event()
        self.log = logging.getLogger(f"mail_import.load.{uuid.uuid4().hex[:6]}")
        self.log.propagate = False
        self.log.addHandler(logging.StreamHandler(open(os.devnull, "w")))   # noqa: SIM115 - closed in close()
        self.log.setLevel(logging.INFO)
        self.lines = 0
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]
        for thread in self.threads:
            thread.start()

    def run(self):
        lock = threading.Lock()
        while not self.stop.is_set():
            with lock:
                self.log.info("load %s", len([object() for _ in range(500)]))
                self.lines += 1
            time.sleep(0.0005)

    def close(self):
        self.stop.set()
        for thread in self.threads:
            thread.join(5)
        for handler in self.log.handlers:
            handler.stream.close()


def test_two_hundred_consecutive_imports_under_load_without_a_silent_child(
        dovecot, new_account, mail_env, monkeypatch):
    rounds = int(os.environ.get("MAIL_IMPORT_SOAK_ROUNDS", "200"))
    mailbox = dovecot.new_mailbox("soak")
    mailbox.fill("INBOX", [make_message(73000 + i, False) for i in range(8)])
    account_id, _ = new_account(mailbox)
    with mailbox.client() as client:
        uidvalidity = client.select_folder("INBOX")[b"UIDVALIDITY"]
    server = Server(mailbox.host, mailbox.port, False, mailbox.login, mailbox.password)
    monkeypatch.setattr(fetch_pool, "ANSWER_GRACE", 20.0)   # a silent child fails its round within seconds
    load = Load()
    started = time.monotonic()
    try:
        for n in range(rounds):
            with fetch_pool.ProcessPool(2, server, "INBOX", uidvalidity, account_id) as pool:
                results = list(pool.results([[1, 2], [3, 4], [5, 6], [7, 8]], time.monotonic() + 30))
            assert [r.uids for r in results] == [[1, 2], [3, 4], [5, 6], [7, 8]], f"round {n}"
    finally:
        load.close()
    assert load.lines > rounds           # the load really ran alongside
    print(f"{rounds} rounds of 2 fetch children in {time.monotonic() - started:.1f} s, {load.lines} log lines")
