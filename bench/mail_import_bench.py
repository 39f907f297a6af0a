"""mail_import benchmark: our IMAP import against mbsync on the same 10,000-message Dovecot folder.

Usage: .venv/bin/python bench/mail_import_bench.py [--messages 10000] [--repeat 5]

Fairness: mbsync runs twice per round, with its default durability (an fsync of every message file) and with
`FSync no` (no fsync at all: its files sit in the page cache). Ours commits each batch with synchronous_commit
off (no WAL flush wait; a crash loses the last batches' rows and their checkpoint together, so they are fetched
again; PostgreSQL's WAL writer still flushes the WAL in the background every 200 ms, more than mbsync does) and
keeps attachments in the moto S3's memory (no fsync): that matches mbsync `FSync no`, so `ours/mbsync-nofsync`
is the equal-durability comparison. Dovecot only reads on both sides. Each round runs the three in a rotated
order; medians of the rounds are compared.

The mailbox (10% of messages with 50-500 KB attachments, tests/mail_import/mail_import_corpus.make_message) is
delivered once as Maildir files into a Dovecot under /tmp/mail-import-bench and reused. Ours runs
through the worker's code path (jobs.start, SQS on a moto server, app.import_worker) with real
PostgreSQL (database platform_bench) and moto S3; mbsync pulls the same folder into a fresh
Maildir. They alternate, --repeat times each; medians are compared. Then the IMAP command count of
a resume check (nothing new) on 100 vs 10,000 messages.

Search: the import commits messages without their search vectors and queues indexing requests; after each of
our runs the bench drains them through app.index_worker (as the index function would) and prints how long
after the import's end the last message became searchable: a separate figure, outside the ratios.

Targets (TARGETS below): ours/mbsync-nofsync <= 1.5x in wall time and in CPU seconds (medians of the rounds); the
resume check costs the same IMAP commands on 10,000 messages as on 100.

CPU: the gated figure counts the processes doing the work (bench/_proc_cpu.py), the same way for both sides:
this process's tree (ours: the worker's code, its fetch children and their forkserver, the moto server; mbsync:
the mbsync child), Dovecot's whole tree (its imap sessions: both sides read the same folder from it), and, for
ours, the PostgreSQL backends of the bench's database plus the WAL writer (shared with other databases: it can
only count against ours). The whole machine's CPU seconds (/proc/stat) are printed too, but other jobs on a
shared machine land in them.
Small: --messages 300 --repeat 5. BENCH_TARGETS=wall_vs_mbsync_nofsync=0.01 makes it fail (bench/_gate.py).

Environment: MAIL_IMPORT_BENCH_DIR (Dovecot and the Maildir), MAIL_IMPORT_BENCH_PORT (default: a free port
found at start and held while the bench runs, tests/held_port.py: Dovecot cannot bind port 0 and say which),
MAIL_IMPORT_BENCH_PG_URL.
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
                str(ROOT / "tests" / "mail_import"), str(ROOT / "tests")]
from _gate import Target, Targets  # noqa: E402
from _proc_cpu import Usage, postgres_backends, postgres_wal_writer  # noqa: E402

BENCH_DIR = Path(os.environ.get("MAIL_IMPORT_BENCH_DIR", "/tmp/mail-import-bench"))
PORT = int(os.environ.get("MAIL_IMPORT_BENCH_PORT", "0"))  # 0: a free pair found by start_dovecot()
HELD = []
PG_URL = os.environ.get("MAIL_IMPORT_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/platform_bench")
SECRET_KEY = "YmVuY2gtb25seS1rZXktbm90LWEtc2VjcmV0LTEyMzQ="
USERS = {"big": "bench-big", "small": "bench-small"}
TARGETS = Targets(
    Target("wall_vs_mbsync_nofsync", "import wall time, ours / mbsync `FSync no` (equal durability)", "<=", 1.5, "x"),
    Target("cpu_vs_mbsync_nofsync", "CPU seconds of the processes doing the import, ours / mbsync `FSync no`", "<=",
           1.5, "x"),
    Target("resume_commands", "IMAP commands of a resume with nothing new, 10,000 messages / 100", "<=", 1.0, "x"),
)


# ---- the mailbox -------------------------------------------------------------------------------

def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), 0.5).close()
        return True
    except OSError:
        return False


def start_dovecot():
    """Dovecot on BENCH_DIR with the bench users (started unless it already runs), on MAIL_IMPORT_BENCH_PORT or
    a free port pair (IMAP and IMAPS)."""
    global PORT, HELD
    if not PORT:
        from held_port import held_port_pair
        HELD = held_port_pair(850)
        PORT = HELD[0].port
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
                          ATTACHMENTS_BUCKET="mail-import-bench", LOG_LEVEL=os.environ.get("LOG_LEVEL", "WARNING"),
                          IMAP_ALLOWED_HOSTS="127.0.0.1")  # the bench's Dovecot is local
        import boto3
        boto3.client("s3").create_bucket(Bucket="mail-import-bench")
        self.queue = boto3.client("sqs").create_queue(QueueName="mail-import-bench")["QueueUrl"]
        self.index_queue = boto3.client("sqs").create_queue(QueueName="mail-import-bench-index")["QueueUrl"]
        os.environ["MAIL_IMPORT_QUEUE_URL"] = self.queue
        os.environ["MAIL_IMPORT_INDEX_QUEUE_URL"] = self.index_queue
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
            # The job's state first: once the last chunk has finished the job, the import is over (waiting for
            # an empty queue first would add the long poll's idle second to the import's time).
            current = job_records.get_job(job["id"])
            if current["state"] not in ("queued", "running"):
                return current
            messages = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=1, WaitTimeSeconds=1,
                                                AttributeNames=["All"]).get("Messages", [])
            if not messages:
                continue
            message = messages[0]
            event = {"Records": [{"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
                                  "body": message["Body"], "attributes": message["Attributes"]}]}
            if not self.app.import_worker(event, LambdaContext())["batchItemFailures"]:
                self.sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=message["ReceiptHandle"])

    def index(self, account_id):
        """Drain the indexing requests the import queued, through app.index_worker as the index function would
        (batches of 10), after the import; returns the seconds until the account's last message is searchable."""
        import psycopg2
        started = time.perf_counter()
        while True:
            messages = self.sqs.receive_message(QueueUrl=self.index_queue, MaxNumberOfMessages=10,
                                                WaitTimeSeconds=0, AttributeNames=["All"]).get("Messages", [])
            if not messages:
                break
            event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                                  "attributes": m["Attributes"]} for m in messages]}
            failed = {f["itemIdentifier"] for f in self.app.index_worker(event, LambdaContext())["batchItemFailures"]}
            for m in messages:
                if m["MessageId"] not in failed:
                    self.sqs.delete_message(QueueUrl=self.index_queue, ReceiptHandle=m["ReceiptHandle"])
        elapsed = time.perf_counter() - started
        conn = psycopg2.connect(PG_URL)
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FILTER (WHERE s.message_id IS NULL), count(*) FROM mail_import.messages m "
                        "LEFT JOIN mail_import.message_search s ON s.message_id = m.id WHERE m.account_id = %s",
                        (account_id,))
            missing, total = cur.fetchone()
        conn.close()
        assert missing == 0 and total > 0, (missing, total)
        return elapsed

    def close(self):
        self.moto.terminate()
        self.moto.wait()


def profile(ours, messages):
    """Where one import's time goes, in a single process (fetch, parse and upload timed in place), with the
    database side split into the insert itself and the rest of the commit."""
    import threading
    from collections import defaultdict

    from chalicelib import settings
    from chalicelib.engine import attachment_store, fetching, imap_session, message_store
    spent, lock = defaultdict(float), threading.Lock()

    def timed(name, function):
        def run(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                with lock:
                    spent[name] += time.perf_counter() - started
        return run

    patches = [(imap_session.Session, "fetch_messages"), (fetching, "parse_message"),
               (attachment_store, "put"), (message_store, "commit_batch")]
    saved = [(owner, name, getattr(owner, name)) for owner, name in patches]
    labels = {"fetch_messages": "IMAP read (UID FETCH)", "parse_message": "parsing",
              "put": "attachment uploads (one pack per batch, overlapping)", "commit_batch": "database commits"}
    os.environ["MAIL_IMPORT_PROCESSES"] = "1"
    settings.load.cache_clear()
    try:
        for owner, name, original in saved:
            setattr(owner, name, timed(labels[name], original))
        started = time.perf_counter()
        job = ours.run(ours.account("big"))
        wall = time.perf_counter() - started
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)
        os.environ.pop("MAIL_IMPORT_PROCESSES")
        settings.load.cache_clear()
    assert job["imported"] == messages, job
    # The search vectors are no longer computed in the import's transaction: the indexer's time, apart.
    spent["indexing after the import (not in the import's time)"] = ours.index(job["account_id"])
    print(f"profile, one process: {wall:.2f} s wall; " + "; ".join(f"{k} {v:.2f} s" for k, v in spent.items()))


# ---- mbsync ------------------------------------------------------------------------------------

MBSYNC_RC = """{fsync}
IMAPAccount bench
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


def mbsync_once(fsync=True):
    """(seconds, messages, machine use) of mbsync pulling the big INBOX into a fresh Maildir (default fsync, or
    `FSync no`)."""
    work = Path(tempfile.mkdtemp(prefix="mbsync-bench-"))
    try:
        rc = work / "mbsyncrc"
        rc.write_text(MBSYNC_RC.format(port=PORT, password=USERS["big"], target=work / "mail",
                                       fsync="" if fsync else "FSync no"))
        (work / "mail").mkdir()
        meter, before, started = work_usage(), Machine.read(), time.perf_counter()
        subprocess.run(["mbsync", "-c", str(rc), "-q", "bench"], check=True, stderr=subprocess.DEVNULL)
        elapsed, usage = time.perf_counter() - started, Machine.since(before)
        usage["work"] = meter.stop()
        got = len(os.listdir(work / "mail" / "INBOX" / "cur")) + len(os.listdir(work / "mail" / "INBOX" / "new"))
        return elapsed, got, usage
    finally:
        shutil.rmtree(work, ignore_errors=True)


def settle():
    """Start every timed run from a quiet machine: VACUUM, CHECKPOINT and the kernel's sync do now what the
    previous run left to do (ours: dead tuples, WAL and table pages; mbsync `FSync no`: 552 MB of dirty files),
    so no run pays for the one before it."""
    import psycopg2
    conn = psycopg2.connect(PG_URL)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            # The last import's rows vacuumed and analysed now, or autovacuum does it during the next run.
            cur.execute("VACUUM (ANALYZE) mail_import.messages, mail_import.attachments, mail_import.message_search")
            cur.execute("CHECKPOINT")
    finally:
        conn.close()
    os.sync()


# ---- what the machine did during a run ---------------------------------------------------------

class Machine:
    """The whole machine's CPU and disk counters (/proc/stat, /proc/diskstats), read before and after a run: its
    CPU seconds (every process: ours, moto, PostgreSQL, Dovecot; or mbsync and Dovecot), the seconds a CPU sat
    idle waiting for the disk, the seconds the hypervisor took (steal) and the megabytes written to disk. They
    say whether a run was slow for its own work or for the machine's."""

    TICK = os.sysconf("SC_CLK_TCK")

    @classmethod
    def read(cls):
        with open("/proc/stat") as f:
            user, nice, system, _idle, iowait, irq, softirq, steal = (int(v) for v in f.readline().split()[1:9])
        written = 0
        with open("/proc/diskstats") as f:
            for line in f:
                fields = line.split()
                # whole disks only (vda, sda, nvme0n1): not partitions (counted in their disk), loop or RAM devices
                name = fields[2]
                if name.startswith(("loop", "ram", "zram")) or not Path(f"/sys/block/{name}/device").exists():
                    continue
                written += int(fields[9]) * 512
        return {"cpu": (user + nice + system + irq + softirq) / cls.TICK, "iowait": iowait / cls.TICK,
                "steal": steal / cls.TICK, "written_mb": written / 1e6}

    @classmethod
    def since(cls, before):
        after = cls.read()
        return {key: after[key] - before[key] for key in after}


def dovecot_master():
    return [int((BENCH_DIR / "run" / "master.pid").read_text())]


def work_usage():
    """CPU of the processes doing an import (see the docstring's CPU paragraph), started now; .stop() reads it."""
    database = PG_URL.rsplit("/", 1)[-1].split("?")[0]
    return Usage(trees={"this process's tree": lambda: [os.getpid()], "dovecot": dovecot_master},
                 picked={"postgres backends": postgres_backends(database), "postgres walwriter": postgres_wal_writer}
                 ).start()


def describe_work(seconds):
    return f"work cpu {sum(seconds.values()):.2f} s (" + ", ".join(f"{k} {v:.2f}" for k, v in seconds.items()) + ")"


def describe(usage):
    return (f"cpu {usage['cpu']:.1f} s, iowait {usage['iowait']:.1f} s, steal {usage['steal']:.1f} s, "
            f"disk written {usage['written_mb']:.0f} MB")


# ---- main --------------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="also time the import's parts in one process")
    args = parser.parse_args(argv)
    print(TARGETS.describe())
    start_dovecot()
    size = deliver("big", args.messages)
    deliver("small", 100)
    ours = Ours()
    try:
        print(f"mail_import bench: {args.messages:,} messages, {size / 1e6:.1f} MB ({args.messages // 10:,} with "
              f"attachments), Dovecot 127.0.0.1:{PORT}; processes={os.environ.get('MAIL_IMPORT_PROCESSES', '2')}, "
              f"batch={os.environ.get('MAIL_IMPORT_BATCH', '100')}, cpus={os.cpu_count()}")
        print("durability: ours = PostgreSQL synchronous_commit off per batch (no WAL flush wait; the WAL writer "
              "flushes in the background) + attachments in moto S3 memory (no fsync); mbsync = default (fsync per "
              "message file) and `FSync no` (no fsync); every timed run "
              "starts after a CHECKPOINT and a sync (nobody pays for the previous run's writeback)")
        mbsync_once()                                   # warm-up: Dovecot indexes, page cache
        warm = ours.account("big")
        ours.run(warm)
        ours.index(warm)
        times = {"ours": [], "mbsync": [], "mbsync-nofsync": []}
        usage = {name: [] for name in times}
        searchable_after = []

        def run_ours():
            account = ours.account("big")
            meter, before, started = work_usage(), Machine.read(), time.perf_counter()
            job = ours.run(account)
            elapsed, used = time.perf_counter() - started, Machine.since(before)
            used["work"] = meter.stop()
            assert job["state"] == "done" and job["imported"] == args.messages, job
            searchable_after.append(ours.index(account))
            return elapsed, used, account

        def run_mbsync(fsync):
            elapsed, got, used = mbsync_once(fsync)
            assert got == args.messages, got
            return elapsed, used, None

        runners = {"ours": run_ours, "mbsync": lambda: run_mbsync(True),
                   "mbsync-nofsync": lambda: run_mbsync(False)}
        order = list(runners)
        for n in range(args.repeat):
            for name in order[n % 3:] + order[:n % 3]:  # rotate who goes first: no one always has a warm cache
                settle()
                elapsed, used, account = runners[name]()
                usage[name].append(used)
                times[name].append(elapsed)
                if account is not None:
                    big_account = account
            print(f"round {n + 1}: " + ", ".join(f"{name} {times[name][-1]:.2f} s" for name in order), flush=True)
            for name in order:
                print(f"    {name}: {describe(usage[name][-1])}; {describe_work(usage[name][-1]['work'])}")
        med = {name: statistics.median(values) for name, values in times.items()}
        print("median: " + ", ".join(f"{name} {med[name]:.2f} s ({args.messages / med[name]:,.0f} msg/s)"
                                     for name in order))
        print(f"ours/mbsync = {med['ours'] / med['mbsync']:.2f}x")
        TARGETS.ratio("wall_vs_mbsync_nofsync", times["ours"], times["mbsync-nofsync"],
                      labels=("ours", "mbsync-nofsync"))
        # A round's own pair too: the machine's speed moves between rounds (see the CPU seconds), so the median
        # of the rounds is the figure, and this range says how far one round can stray from it.
        pairs = [a / b for a, b in zip(times["ours"], times["mbsync-nofsync"])]
        print(f"ours/mbsync-nofsync round by round: {min(pairs):.2f}x-{max(pairs):.2f}x "
              f"({', '.join(f'{r:.2f}x' for r in pairs)})")
        for name in order:
            medians = {key: statistics.median(u[key] for u in usage[name]) for key in usage[name][0] if key != "work"}
            print(f"median machine use, {name}: {describe(medians)}")
        cpu = {name: statistics.median(u["cpu"] for u in usage[name]) for name in order}
        print(f"machine cpu ours/mbsync-nofsync = {cpu['ours'] / cpu['mbsync-nofsync']:.2f}x (CPU seconds of the "
              "whole machine during the runs, medians; other jobs on the machine land in it too: not gated)")
        work = {name: [sum(u["work"].values()) for u in usage[name]] for name in order}
        TARGETS.ratio("cpu_vs_mbsync_nofsync", work["ours"], work["mbsync-nofsync"], labels=("ours", "mbsync-nofsync"),
                      unit="CPU s")
        print(f"searchable: the last message {statistics.median(searchable_after):.2f} s after the import ended "
              "(median; the indexing requests the import queued, drained after it by app.index_worker in this "
              "process; not part of the ratios)")
        if args.profile:
            profile(ours, args.messages)
        small_account = ours.account("small")
        ours.run(small_account)
        # The resume check: an import with nothing new, on accounts that imported everything before.
        counts = {user: ours.run(account)["imap_commands"]
                  for user, account in (("small", small_account), ("big", big_account))}
        print(f"incremental sync with nothing new, IMAP commands: 100 messages: {counts['small']}, "
              f"{args.messages:,} messages: {counts['big']} (target: the same)")
        TARGETS.ratio("resume_commands", [counts["big"]], [counts["small"]],
                      labels=(f"{args.messages:,} messages", "100 messages"), unit="commands", fmt="{:.0f}")
    finally:
        ours.close()
        stop_dovecot()
    return TARGETS.exit_code()


if __name__ == "__main__":
    sys.exit(main())
