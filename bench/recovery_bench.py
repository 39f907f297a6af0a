"""Benchmark: how soon a job ends after a crash of its worker, against the same job without one (issue 28).

Targets (exit 1 above any, or on anything lost, doubled, left behind or dead-lettered):
- every kind of fault: the job's end no later than TARGET_AFTER_FAULT = 90 s after the (last) fault (median);
- broadcast: nothing sent twice (the ChatApp emulator's log), every recipient final, the dead-letter queue empty;
- mail_import: the job `done` and never `error`, every message stored once, failures 0 (a death spends none of
  the attempts kept for bad data), the dead-letter queue empty.

broadcast's job: one broadcast of --numbers recipients, their send messages queued at once, through the local
cloud's BroadcastSenderFunction (real worker processes, moto SQS, MariaDB, the ChatApp emulator); its end is the
last recipient's final status. Its kinds of fault:
- kill:    the sender SIGKILLed in the middle of a ChatApp call (the call reached ChatApp: the recipients of that
           batch end 'unknown', never sent twice); timed from the kill.
- timeout: the sender hangs in the call until the runtime kills it at the function's Timeout (30 s); timed from
           the hang's start.
The fault is injected with tests/broadcast/broadcast_faults.py (LOCAL_PRELOAD: the first send of a run hangs
after reaching ChatApp).

mail_import's job: an import of --messages generated messages (1% with attachments) from a throwaway Dovecot on
a free port, through the local cloud's mail_import functions (real workers, forkserver fetch children, moto,
PostgreSQL database BENCH_PG_URL); its end is the job's final state. Commits are paced as in
tests/mail_import/test_mail_import_recovery_cloud.py (tests/mail_import/mail_import_faults.py preloaded: a pause
after each batch commit, the committing worker's pid in a file) so a fault lands mid-import. Once 30% of the
messages are stored:
- import-kill:     the worker running the chunk SIGKILLed from outside; timed from the kill.
- import-children: that worker's fetch children SIGKILLed (the worker lives on); timed from the kill.
- import-dbcut:    every connection to the bench's own database cut again and again for 3 s
                   (pg_terminate_backend limited to that database: the shared server is never restarted); timed
                   from the end of the cut.

Each faulted run follows a clean run of the same job (same process, same stack), --runs rounds. Printed per kind:
the median time from the fault to the job's end and its spread (min-max), the job's time against the clean
run's median and spread, each run's figures.

Usage: .venv/bin/python bench/recovery_bench.py [--numbers 50] [--messages 3000] [--runs 3]
       [--kinds kill,timeout,import-kill,import-children,import-dbcut]
(BENCH_MYSQL_URL / BENCH_PG_URL pick the databases, emptied first; defaults broadcast_recovery_bench and
platform_recovery_bench.)
"""
import argparse
import os
import shutil
import signal
import subprocess
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "common" / "python")]

BENCH_MYSQL_URL = os.environ.get("BENCH_MYSQL_URL", "mysql://root@127.0.0.1:3306/broadcast_recovery_bench")
BENCH_PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/platform_recovery_bench")
FAULTS = ROOT / "tests" / "broadcast" / "broadcast_faults.py"
MAIL_FAULTS = ROOT / "tests" / "mail_import" / "mail_import_faults.py"
TARGET_AFTER_FAULT = 90.0
BROADCAST_KINDS = ("kill", "timeout")
IMPORT_KINDS = ("import-kill", "import-children", "import-dbcut")
KINDS = BROADCAST_KINDS + IMPORT_KINDS
FAULT_AT = 0.3          # mail_import: the fault once this share of the messages is stored
DB_CUT_SECONDS = 3.0
JOB_TIMEOUT = 400       # seconds before a run is declared stuck (far beyond every target)


class Stack:
    """The bench database emptied, moto, the ChatApp emulator and the sender (faults preloaded, disarmed)."""

    def __init__(self):
        import pymysql.cursors
        from common import db
        from cryptography.fernet import Fernet
        from infra import migrate
        from localcloud.cloud import Cloud, start_moto
        from emulators.chatapp import ChatAppEmulator

        migrate.migrate_mysql(BENCH_MYSQL_URL)
        os.environ["MYSQL_URL"] = BENCH_MYSQL_URL
        self.conn = db.mysql_connect(BENCH_MYSQL_URL, autocommit=True, cursorclass=pymysql.cursors.DictCursor)
        self.sql("DELETE FROM broadcast_recipients")
        self.sql("DELETE FROM broadcasts")
        self.moto, endpoint = start_moto()
        os.environ.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                          AWS_DEFAULT_REGION="us-east-1")
        self.emulator = ChatAppEmulator().start()
        self.folder = tempfile.mkdtemp(prefix="recovery-bench-")
        self.marker = Path(self.folder) / "hung-sender.pid"
        self.disarm()
        self.cloud = Cloud(str(ROOT / "template.yaml"), {
            "MysqlUrl": BENCH_MYSQL_URL, "BroadcastUser": "bench", "BroadcastPassword": "bench-password",
            "BroadcastWebhookSecret": "bench", "ChatAppBaseUrl": self.emulator.url,
            "SecretKey": Fernet.generate_key().decode(),
        }, aws_endpoint=endpoint, functions=["BroadcastSenderFunction"],
            env={"LOCAL_PRELOAD": str(FAULTS), "FAULT_HANG_AFTER_SEND_MARKER": str(self.marker)}).start()
        import boto3
        self.sqs = boto3.client("sqs")
        self.queue = self.cloud.physical_id("BroadcastSendQueue")
        self.dlq = self.cloud.physical_id("BroadcastSendDLQ")

    def sql(self, statement, *params):
        with self.conn.cursor() as cur:
            cur.execute(statement, params or None)
            return cur.fetchall()

    def disarm(self):
        """The marker exists: no send hangs."""
        self.marker.write_text("disarmed")

    def arm(self):
        """No marker: the next send reaches ChatApp, then hangs (its worker writes its pid to the marker)."""
        self.marker.unlink()

    def stop(self):
        self.cloud.stop()
        self.emulator.stop()
        self.moto.stop()
        self.conn.close()


def store_and_queue(stack, numbers):
    """A broadcast of `numbers` and one send message per recipient, queued now; returns its id."""
    from functions.broadcast.chalicelib import broadcasts, phones, queue_messages
    parsed = phones.parse_list("\n".join(numbers), "RU").numbers
    broadcast_id, (low, high) = broadcasts.create("Recovery bench", parsed, 0, [0] * len(parsed))
    ids = list(range(low, high + 1))
    for start in range(0, len(ids), 10):
        stack.sqs.send_message_batch(QueueUrl=stack.queue, Entries=[
            {"Id": str(n), "MessageBody": queue_messages.Send(rid).body()}
            for n, rid in enumerate(ids[start:start + 10])])
    return broadcast_id


def wait_final(stack, broadcast_id):
    deadline = time.monotonic() + JOB_TIMEOUT
    while stack.sql("SELECT COUNT(*) AS n FROM broadcast_recipients WHERE broadcast_id = %s "
                    "AND status IN ('queued', 'sending')", broadcast_id)[0]["n"]:
        if time.monotonic() > deadline:
            raise SystemExit(f"broadcast {broadcast_id}: recipients still not final after {JOB_TIMEOUT} s")
        time.sleep(0.2)
    return time.monotonic()


def run(stack, numbers, kind=None):
    """One job, with a fault of `kind` (None: clean). Returns a dict of its figures."""
    before = len(stack.emulator.sends())
    if kind:
        stack.arm()
    started = time.monotonic()
    broadcast_id = store_and_queue(stack, numbers)
    fault_at = None
    if kind:
        deadline = time.monotonic() + 60
        while not (stack.marker.exists() and stack.marker.read_text().isdigit()):
            if time.monotonic() > deadline:
                raise SystemExit("the armed fault never fired (no send reached the hang)")
            time.sleep(0.05)
        fault_at = time.monotonic()
        if kind == "kill":
            os.kill(int(stack.marker.read_text()), signal.SIGKILL)
        # "timeout": left to the runtime, which kills the worker at the function's Timeout
    ended = wait_final(stack, broadcast_id)
    if kind:
        stack.disarm()
    sends = [r["path"].split("/")[-3] for r in stack.emulator.sends()[before:]]
    statuses = {r["status"]: r["n"] for r in stack.sql(
        "SELECT status, COUNT(*) AS n FROM broadcast_recipients WHERE broadcast_id = %s GROUP BY status",
        broadcast_id)}
    return {"kind": kind or "clean", "job": ended - started, "after_fault": ended - fault_at if kind else None,
            "duplicates": len(sends) - len(set(sends)), "statuses": statuses}


class MailStack:
    """A throwaway Dovecot on a free port, the bench database emptied, moto and the mail_import functions (commits
    paced, the committing worker's pid written to a file: tests/mail_import/mail_import_faults.py preloaded)."""

    def __init__(self):
        sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "mail_import")]
        import psycopg2
        from infra import migrate
        from localcloud.cloud import Cloud, start_moto
        from localcloud.template import load
        from mail_import_support import FUNCTIONS, LOCAL_CONF, Dovecot, free_port_pair, wait_for_port

        migrate.migrate_postgres(BENCH_PG_URL)
        self.conn = psycopg2.connect(BENCH_PG_URL)
        self.conn.autocommit = True
        self.sql("DELETE FROM mail_import.accounts")     # cascades to the jobs and messages of earlier runs
        self.folder = tempfile.mkdtemp(prefix="recovery-bench-mail-")
        os.chmod(self.folder, 0o755)        # Dovecot's imap processes (uid 2000) must reach the mail dirs
        Path(self.folder, "local.conf").write_text(LOCAL_CONF)
        self.dovecot = Dovecot(self.folder, free_port_pair())
        self.dovecot.create_users()
        subprocess.run([str(ROOT / "infra" / "dovecot" / "start.sh"), self.folder, str(self.dovecot.port)],
                       check=True, stdout=subprocess.DEVNULL)
        wait_for_port(self.dovecot.port)
        self.moto, endpoint = start_moto()
        os.environ.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                          AWS_DEFAULT_REGION="us-east-1")
        from cryptography.fernet import Fernet
        template = str(ROOT / "template.yaml")
        known = set(load(template).get("Parameters", {}))
        params = {"DatabaseUrl": BENCH_PG_URL, "SecretKey": Fernet.generate_key().decode(),
                  "ImapAllowedHosts": "127.0.0.1"}       # the bench's Dovecot is local
        self.pid_file = Path(self.folder) / "worker.pid"
        from test_mail_import_recovery_cloud import APP_NAME
        self.cloud = Cloud(template, {k: v for k, v in params.items() if k in known}, aws_endpoint=endpoint,
                           functions=FUNCTIONS, env={
                               "MAIL_IMPORT_BATCH": "10", "MAIL_IMPORT_CHUNK_SECONDS": "10",
                               "LOCAL_PRELOAD": str(MAIL_FAULTS), "FAULT_COMMIT_PAUSE": "0.04",
                               "FAULT_PID_FILE": str(self.pid_file),
                               # the cut reaches these connections only (test_mail_import_recovery_cloud)
                               "PGAPPNAME": APP_NAME}).start()
        self.api = self.cloud.api_url("MailImportApi")
        import boto3
        self.sqs = boto3.client("sqs")
        self.queue = self.cloud.physical_id("MailImportQueue")
        self.dlq = self.cloud.physical_id("MailImportDeadLetterQueue")

    def sql(self, statement, *params):
        with self.conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else None

    def stop(self):
        self.cloud.stop()
        self.moto.stop()
        self.conn.close()
        subprocess.run(["dovecot", "-c", f"{self.folder}/dovecot.conf", "stop"], check=False)
        time.sleep(0.2)
        shutil.rmtree(self.folder, ignore_errors=True)


def import_run(stack, messages, kind=None):
    """One import of `messages` fresh messages, with a fault of `kind` (None: clean). Returns its figures."""
    import requests
    from mail_import_corpus import make_message
    from test_mail_import_recovery_cloud import JobWatch, alive, cut_database, fetch_children
    from waiting import wait_until

    mailbox = stack.dovecot.new_mailbox("recovery-bench")
    mailbox.fill("INBOX", [make_message(40000 + i, i % 100 == 0) for i in range(messages)])
    created = requests.post(f"{stack.api}/api/accounts", json=mailbox.account_input(), timeout=30).json()
    account_id = created["id"]
    stack.pid_file.unlink(missing_ok=True)
    started = time.monotonic()
    requests.post(f"{stack.api}/api/accounts/{account_id}/import", timeout=30,
                  headers={"Authorization": f"Bearer {created['token']}"})
    watch = JobWatch(BENCH_PG_URL, account_id)
    fault_at = None
    try:
        if kind:
            wait_until(lambda: watch.imported >= messages * FAULT_AT or watch.ended, JOB_TIMEOUT, "the fault's moment")
            if watch.ended:
                raise SystemExit(f"{kind}: the import ended before the fault; use more --messages")
            if kind == "import-kill":
                worker = int(stack.pid_file.read_text())
                children = fetch_children(worker)
                os.kill(worker, signal.SIGKILL)
                fault_at = time.monotonic()
                wait_until(lambda: not any(alive(pid) for pid in [worker, *children]), 5,
                           "the worker and its children gone")
            elif kind == "import-children":
                worker = int(stack.pid_file.read_text())
                children = wait_until(lambda: fetch_children(worker), 10, "the worker's fetch children")
                for child in children:
                    os.kill(child, signal.SIGKILL)
                fault_at = time.monotonic()
            else:
                if not cut_database(stack.sql, DB_CUT_SECONDS):
                    raise SystemExit("import-dbcut: no connection of the bench database was cut")
                fault_at = time.monotonic()
        wait_until(lambda: watch.ended, JOB_TIMEOUT, "the import's end")
    finally:
        watch.stop.set()
        watch.thread.join(5)
    job = stack.sql("SELECT state, imported, failures FROM mail_import.jobs WHERE account_id = %s "
                    "ORDER BY id DESC LIMIT 1", account_id)[0]
    stored, distinct = stack.sql("SELECT count(*), count(DISTINCT uid) FROM mail_import.messages "
                                 "WHERE account_id = %s", account_id)[0]
    return {"kind": kind or "clean", "job": watch.ended - started,
            "after_fault": watch.ended - fault_at if kind else None,
            "duplicates": stored - distinct, "lost": messages - distinct, "states": sorted(watch.states),
            "final": job[0], "failures": job[2]}


def import_problems(figures):
    problems = []
    if figures["final"] != "done" or "error" in figures["states"]:
        problems.append(f"ended {figures['final']}, states seen {figures['states']}")
    if figures["duplicates"] or figures["lost"]:
        problems.append(f"{figures['lost']} messages lost, {figures['duplicates']} stored twice")
    if figures["failures"]:
        problems.append(f"{figures['failures']} failures counted (the deaths spent attempts kept for bad data)")
    return [f"{figures['kind']} run: {p}" for p in problems]


def drained(stack, timeout=60):
    """The send queue empty (what a run left settles) and the DLQ's message count."""
    deadline = time.monotonic() + timeout
    while True:
        attrs = stack.sqs.get_queue_attributes(QueueUrl=stack.queue, AttributeNames=["All"])["Attributes"]
        if attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0":
            break
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
    attrs = stack.sqs.get_queue_attributes(QueueUrl=stack.dlq, AttributeNames=["All"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def spread(values):
    return f"{min(values):.1f}-{max(values):.1f} s"


def broadcast_rounds(args, kinds, results, problems):
    from broadcast_bench import unique_numbers
    stack = Stack()
    try:
        numbers = unique_numbers(args.numbers)
        run(stack, numbers)        # warm-up: workers started, tokens fetched
        for n in range(args.runs):
            for kind in kinds:
                for fault in (None, kind):      # alternating: a clean run, then the same job with the fault
                    figures = run(stack, numbers, fault)
                    figures["product"] = "broadcast"
                    results.append(figures)
                    after = f", {figures['after_fault']:.1f} s after the fault" if figures["after_fault"] else ""
                    print(f"broadcast round {n + 1} {figures['kind']:>7}: job {figures['job']:.1f} s{after}; "
                          f"statuses {figures['statuses']}; duplicate sends {figures['duplicates']}", flush=True)
                    left = sum(v for k, v in figures["statuses"].items() if k in ("queued", "sending"))
                    if figures["duplicates"] or left:
                        problems.append(f"broadcast {figures['kind']} run: {figures['duplicates']} duplicate sends, "
                                        f"{left} recipients not final")
        dead = drained(stack)
    finally:
        stack.stop()
    if dead:
        problems.append(f"broadcast: {dead} messages in the dead-letter queue")


def import_rounds(args, kinds, results, problems):
    stack = MailStack()
    try:
        import_run(stack, min(args.messages, 200))      # warm-up: workers and their forkservers started
        for n in range(args.runs):
            for kind in kinds:
                for fault in (None, kind):      # alternating: a clean run, then the same job with the fault
                    figures = import_run(stack, args.messages, fault)
                    figures["product"] = "mail_import"
                    results.append(figures)
                    after = f", {figures['after_fault']:.1f} s after the fault" if figures["after_fault"] else ""
                    print(f"mail_import round {n + 1} {figures['kind']:>15}: job {figures['job']:.1f} s{after}; "
                          f"final {figures['final']}, states seen {figures['states']}, failures "
                          f"{figures['failures']}, lost {figures['lost']}, doubled {figures['duplicates']}",
                          flush=True)
                    problems.extend(import_problems(figures))
        dead = drained(stack)
    finally:
        stack.stop()
    if dead:
        problems.append(f"mail_import: {dead} messages in the dead-letter queue")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=50, help="broadcast: recipients per job")
    parser.add_argument("--messages", type=int, default=3000, help="mail_import: messages per import")
    parser.add_argument("--runs", type=int, default=3, help="faulted runs per kind (each after a clean run)")
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"comma-separated, of {', '.join(KINDS)}")
    args = parser.parse_args(argv)
    kinds = [k for k in args.kinds.split(",") if k]
    if not kinds or any(k not in KINDS for k in kinds) or args.runs < 1 or args.numbers < 1 or args.messages < 100:
        parser.error(f"--kinds from {', '.join(KINDS)}, --runs and --numbers at least 1, --messages at least 100")
    import logging
    logging.basicConfig(level=logging.WARNING)

    results, problems = [], []
    products = [("broadcast", [k for k in kinds if k in BROADCAST_KINDS], broadcast_rounds),
                ("mail_import", [k for k in kinds if k in IMPORT_KINDS], import_rounds)]
    for _product, product_kinds, rounds in products:
        if product_kinds:
            rounds(args, product_kinds, results, problems)
    print(f"\n{args.runs} faulted run(s) per kind, each after a clean run; broadcast {args.numbers} recipients, "
          f"mail_import {args.messages} messages per job; target: the job's end <= {TARGET_AFTER_FAULT:.0f} s "
          f"after the fault (median)")
    for product, product_kinds, _rounds in products:
        if not product_kinds:
            continue
        clean_jobs = [r["job"] for r in results if r["product"] == product and r["kind"] == "clean"]
        clean = statistics.median(clean_jobs)
        print(f"{product}: clean job {clean:.1f} s (median; spread {spread(clean_jobs)})")
        for kind in product_kinds:
            afters = [r["after_fault"] for r in results if r["kind"] == kind]
            jobs = [r["job"] for r in results if r["kind"] == kind]
            after = statistics.median(afters)
            verdict = "ok" if after <= TARGET_AFTER_FAULT else "ABOVE TARGET"
            print(f"  {kind:>15}: fault -> end {after:.1f} s (median; spread {spread(afters)}); job "
                  f"{statistics.median(jobs):.1f} s (spread {spread(jobs)}) against the clean {clean:.1f} s: "
                  f"{verdict}")
            if after > TARGET_AFTER_FAULT:
                problems.append(f"{kind}: {after:.1f} s from the fault to the end > {TARGET_AFTER_FAULT:.0f} s")
    for problem in problems:
        print("FAIL:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
