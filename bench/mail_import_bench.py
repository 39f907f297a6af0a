"""mail_import benchmark: our IMAP import against mbsync on the same 10,000-message Dovecot folder.

Usage: .venv/bin/python bench/mail_import_bench.py [--messages 10000] [--repeat 3]

The mailbox (10% of messages with 50-500 KB attachments, tests/mail_import/mail_import_corpus.make_message) is
delivered once as Maildir files into a Dovecot under /tmp/mail-import-bench and reused. Ours runs
through the worker's code path (jobs.start, SQS on a moto server, app.import_worker) with real
PostgreSQL (database platform_bench) and moto S3; mbsync pulls the same folder into a fresh
Maildir. They alternate, --repeat times each; medians are compared. Then the IMAP command count of
a resume check (nothing new) on 100 vs 10,000 messages.
"""
import argparse
import importlib.util
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTION = ROOT / "functions" / "mail_import"
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "common" / "python"), str(FUNCTION),
                str(ROOT / "tests" / "mail_import")]

BENCH_DIR = Path(os.environ.get("MAIL_IMPORT_BENCH_DIR", "/tmp/mail-import-bench"))
PORT = int(os.environ.get("MAIL_IMPORT_BENCH_PORT", "14143"))
PG_URL = os.environ.get("MAIL_IMPORT_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/platform_bench")
SECRET_KEY = "YmVuY2gtb25seS1rZXktbm90LWEtc2VjcmV0LTEyMzQ="
USERS = {"big": "bench-big", "small": "bench-small"}


# ---- the mailbox -------------------------------------------------------------------------------

def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), 0.5).close()
        return True
    except OSError:
        return False


def start_dovecot():
    """Dovecot on BENCH_DIR with the bench users (started unless it already runs)."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    os.chmod(BENCH_DIR, 0o755)
    users = "".join(f"{name}:{{PLAIN}}{password}::::::\n" for name, password in USERS.items())
    (BENCH_DIR / "users").write_text("alice:{PLAIN}secret::::::\n" + users)
    if not port_open(PORT):
        subprocess.run([str(ROOT / "infra" / "dovecot" / "start.sh"), str(BENCH_DIR), str(PORT)], check=True,
                       stdout=subprocess.DEVNULL)
        for _ in range(100):
            if port_open(PORT):
                break
            time.sleep(0.05)


def stop_dovecot():
    subprocess.run(["dovecot", "-c", str(BENCH_DIR / "dovecot.conf"), "stop"], check=False)


def deliver(user, count):
    """Write `count` generated messages into the user's INBOX as Maildir files, once (a marker says so)."""
    from mail_import_corpus import make_message
    maildir = BENCH_DIR / "mail" / user
    marker = maildir / f".bench-{count}"
    if marker.exists():
        return int(marker.read_text())
    shutil.rmtree(maildir, ignore_errors=True)
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    total, base = 0, int(time.time()) - 86400 * 365
    for i in range(count):
        raw = make_message(i, i % 10 == 0)
        total += len(raw)
        path = maildir / "cur" / f"{base + i}.M{i}P1.bench,S={len(raw)}:2,S"
        path.write_bytes(raw)
        os.utime(path, (base + i * 60, base + i * 60))
    marker.write_text(str(total))
    subprocess.run(["chown", "-R", "2000:2000", str(BENCH_DIR / "mail")], check=True)
    return total


# ---- our import --------------------------------------------------------------------------------

class LambdaContext:
    def get_remaining_time_in_millis(self):
        return 120_000


class Ours:
    """The worker's code path against moto (SQS, S3) in its own process and PostgreSQL."""

    def __init__(self):
        from infra import migrate
        migrate.migrate_postgres(PG_URL)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.moto = subprocess.Popen([str(ROOT / ".venv" / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        endpoint = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                urllib.request.urlopen(endpoint + "/moto-api/", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        os.environ.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                          AWS_DEFAULT_REGION="us-east-1", DATABASE_URL=PG_URL, SECRET_KEY=SECRET_KEY,
                          ATTACHMENTS_BUCKET="mail-import-bench", LOG_LEVEL="WARNING")
        import boto3
        boto3.client("s3").create_bucket(Bucket="mail-import-bench")
        self.queue = boto3.client("sqs").create_queue(QueueName="mail-import-bench")["QueueUrl"]
        os.environ["MAIL_IMPORT_QUEUE_URL"] = self.queue
        self.sqs = boto3.client("sqs")
        spec = importlib.util.spec_from_file_location("mail_import_app", FUNCTION / "app.py")
        self.app = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.app)

    def account(self, user):
        from chalicelib.engine import accounts
        from chalicelib.web import account_form
        account_id, _token = accounts.create(account_form.parse_account({
            "provider": "custom", "host": "127.0.0.1", "port": str(PORT), "ssl": "", "login": user,
            "password": USERS[user]}))
        return account_id

    def run(self, account_id):
        """Import until the job is over, the way the SQS poller would drive it; returns the job."""
        from chalicelib.engine import job_records, jobs
        job = jobs.start(account_id)
        while True:
            messages = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=1, WaitTimeSeconds=1,
                                                AttributeNames=["All"]).get("Messages", [])
            if not messages:
                current = job_records.get_job(job["id"])
                if current["state"] not in ("queued", "running"):
                    return current
                continue
            message = messages[0]
            event = {"Records": [{"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
                                  "body": message["Body"], "attributes": message["Attributes"]}]}
            if not self.app.import_worker(event, LambdaContext())["batchItemFailures"]:
                self.sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=message["ReceiptHandle"])

    def close(self):
        self.moto.terminate()
        self.moto.wait()


# ---- mbsync ------------------------------------------------------------------------------------

MBSYNC_RC = """IMAPAccount bench
Host 127.0.0.1
Port {port}
User big
Pass {password}
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account bench

MaildirStore local
Path {target}/
Inbox {target}/INBOX

Channel bench
Far :remote:
Near :local:
Patterns INBOX
Create Near
Sync Pull
SyncState *
"""


def mbsync_once():
    """Seconds mbsync takes to pull the big INBOX into a fresh Maildir (default fsync)."""
    work = Path(tempfile.mkdtemp(prefix="mbsync-bench-"))
    try:
        rc = work / "mbsyncrc"
        rc.write_text(MBSYNC_RC.format(port=PORT, password=USERS["big"], target=work / "mail"))
        (work / "mail").mkdir()
        started = time.perf_counter()
        subprocess.run(["mbsync", "-c", str(rc), "-q", "bench"], check=True, stderr=subprocess.DEVNULL)
        elapsed = time.perf_counter() - started
        got = len(os.listdir(work / "mail" / "INBOX" / "cur")) + len(os.listdir(work / "mail" / "INBOX" / "new"))
        return elapsed, got
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---- main --------------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    start_dovecot()
    size = deliver("big", args.messages)
    deliver("small", 100)
    ours = Ours()
    try:
        print(f"mail_import bench: {args.messages:,} messages, {size / 1e6:.1f} MB ({args.messages // 10:,} with "
              f"attachments), Dovecot 127.0.0.1:{PORT}; processes={os.environ.get('MAIL_IMPORT_PROCESSES', '2')}, "
              f"batch={os.environ.get('MAIL_IMPORT_BATCH', '100')}, cpus={os.cpu_count()}")
        mbsync_once()                                   # warm-up: Dovecot indexes, page cache
        ours.run(ours.account("big"))
        times = {"ours": [], "mbsync": []}
        for n in range(args.repeat):
            big_account = ours.account("big")
            started = time.perf_counter()
            job = ours.run(big_account)
            times["ours"].append(time.perf_counter() - started)
            assert job["state"] == "done" and job["imported"] == args.messages, job
            elapsed, got = mbsync_once()
            assert got == args.messages, got
            times["mbsync"].append(elapsed)
            print(f"run {n + 1}: ours {times['ours'][-1]:.2f} s, mbsync {elapsed:.2f} s")
        mine, theirs = statistics.median(times["ours"]), statistics.median(times["mbsync"])
        print(f"median: ours {mine:.2f} s ({args.messages / mine:,.0f} msg/s), mbsync {theirs:.2f} s "
              f"({args.messages / theirs:,.0f} msg/s); ours/mbsync = {mine / theirs:.2f}x (target <= 1.0x)")
        small_account = ours.account("small")
        ours.run(small_account)
        # The resume check: an import with nothing new, on accounts that imported everything before.
        counts = {user: ours.run(account)["imap_commands"]
                  for user, account in (("small", small_account), ("big", big_account))}
        print(f"resume check, IMAP commands: 100 messages: {counts['small']}, {args.messages:,} messages: "
              f"{counts['big']} (target: the same)")
    finally:
        ours.close()
        stop_dovecot()


if __name__ == "__main__":
    main()
