"""Mailbox benchmark: the API through the local cloud's HTTP gateway against the same SQL run directly.

Usage (from the repo root):
  .venv/bin/python bench/mailbox_bench.py [--pg-url URL] [--letters 1000000] [--users 10000]
         [--requests 1000] [--seconds 10] [--concurrency 4] [--rounds 3]
Fills the database (default platform_bench; created and migrated here) with fake letters once and
reuses them on later runs, then measures listing a page of 50 and sending to 10 recipients.
After a warm-up round, raw SQL and API runs alternate (raw first in odd rounds, API first in even ones), so a
drifting machine load or the inboxes that grow with every send weigh on both sides alike; each figure is the
median of the rounds. Targets (TARGETS below): API send throughput >= 0.5x the raw SQL throughput; list p99
< 20 ms through the API (the product's promise, the median of the rounds' p99); the list query index-backed.
The list throughput ratio is printed for information (it mostly measures the local gateway's per-request cost).
Small: --letters 20000 --users 200 --requests 200 --seconds 2. BENCH_TARGETS overrides targets (bench/_gate.py).
"""
import argparse
import http.client
import json
import multiprocessing
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "common" / "python")]

import psycopg2  # noqa: E402
from _gate import Target, Targets, alternate  # noqa: E402

from common.passwords import api_key_digest  # noqa: E402
from tools.mailbox import fake  # noqa: E402
from functions.mailbox.chalicelib import mailboxes, queries  # noqa: E402
from infra import migrate  # noqa: E402
from localcloud.cloud import Cloud  # noqa: E402

PAGE = 50
RECIPIENTS = 10
TARGETS = Targets(
    Target("send_vs_raw", "send throughput, API / raw SQL (median of the rounds' ratios)", ">=", 0.5, "x"),
    Target("list_p99_ms", "list a page p99 through the API, median of rounds (the product's promise)", "<", 20.0,
           " ms"),
    Target("list_index_backed", "list query index-backed (copies_folder_order), 1 = yes", ">=", 1),
)
SUBJECT = "Quarterly numbers"
BODY = ("Hi all,\n\nThe quarterly numbers are in and look better than expected. "
        "Details in the usual place; questions welcome before Friday.\n\nThanks,\nBench") * 3
# Always the same recipients (whose inboxes grow with every run) ...
RECIPIENT_MAILBOXES = "SELECT id, address FROM mailbox.mailboxes ORDER BY id DESC LIMIT %s"
# ... and, among the others, the heaviest inbox: the worst case for the page and the unread count.
BUSIEST_INBOX = """
    SELECT m.id, m.address FROM mailbox.copies c JOIN mailbox.mailboxes m ON m.id = c.mailbox_id
    WHERE c.folder = 'inbox' AND NOT m.id = ANY(%s) GROUP BY m.id ORDER BY count(*) DESC LIMIT 1
"""


def fill(url, letters, users):
    """Migrate and make sure the database holds at least `letters` letters; returns seconds spent filling."""
    migrate.migrate_postgres(url)
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(queries.COUNT_LETTERS)
        have = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM mailbox.mailboxes")
        have_users = cur.fetchone()[0]
    conn.close()
    if have >= letters:
        print(f"database already holds {have:,} letters: reusing it")
        return 0.0
    started = time.monotonic()
    print(f"filling {url}: {letters - have:,} letters ({'new' if not have_users else 'existing'} users) ...")

    def progress(done, total):
        if done % 100_000 < fake.BATCH_LETTERS or done == total:
            print(f"  {done:,}/{total:,} letters after {time.monotonic() - started:.0f}s", flush=True)

    fake.generate(url, users=0 if have_users else users, letters=letters - have, progress=progress)
    spent = time.monotonic() - started
    print(f"filled in {spent:.0f}s")
    return spent


def prepare(url):
    """(api key, mailbox id, address, 10 recipient addresses) for the busiest mailbox; rotates its key."""
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(RECIPIENT_MAILBOXES, (RECIPIENTS,))
        ids, recipients = zip(*cur.fetchall())
        cur.execute(BUSIEST_INBOX, (list(ids),))
        mailbox_id, address = cur.fetchone()
        key = mailboxes.rotate_key(cur, address)
    conn.close()
    return key, mailbox_id, address, list(recipients)


def explain(url, mailbox_id):
    """The plan of the list statement; fails loudly if it is not an index scan on copies_folder_order."""
    params = {"mailbox": mailbox_id, "folder": "inbox", "after_created_at": "infinity", "after_id": 2 ** 63 - 1,
              "limit": PAGE + 1, "snippet": 160}
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + queries.LIST_FOLDER, params)
        plan = "\n".join(row[0] for row in cur.fetchall())
        cur.execute("EXPLAIN " + queries.UNREAD_COUNT, (mailbox_id, "inbox"))
        count_plan = "\n".join(row[0] for row in cur.fetchall())
    conn.close()
    print("EXPLAIN list page:\n  " + plan.replace("\n", "\n  "))
    print("EXPLAIN unread counter:\n  " + count_plan.replace("\n", "\n  "))
    return "copies_folder_order" in plan and "Seq Scan" not in plan


class RawSql:
    """What the function runs for each request, straight through psycopg2 (auth lookup included)."""

    def __init__(self, url, key, mailbox_id, recipients):
        self.conn = psycopg2.connect(url)
        self.digest = api_key_digest(key)
        self.mailbox_id, self.recipients = mailbox_id, recipients

    def list_page(self):
        with self.conn, self.conn.cursor() as cur:
            cur.execute(queries.MAILBOX_BY_KEY_DIGEST, (self.digest,))
            cur.fetchone()
            cur.execute(queries.LIST_FOLDER, {"mailbox": self.mailbox_id, "folder": "inbox",
                                              "after_created_at": "infinity", "after_id": 2 ** 63 - 1,
                                              "limit": PAGE + 1, "snippet": 160})
            assert len(cur.fetchall()) == PAGE + 1
            cur.execute(queries.UNREAD_COUNT, (self.mailbox_id, "inbox"))
            cur.fetchone()

    def send(self):
        with self.conn, self.conn.cursor() as cur:
            cur.execute(queries.MAILBOX_BY_KEY_DIGEST, (self.digest,))
            cur.fetchone()
            cur.execute(queries.MAILBOXES_BY_ADDRESSES, (self.recipients,))
            ids = [row[0] for row in cur.fetchall()]
            cur.execute(queries.INSERT_LETTER, (self.mailbox_id, self.recipients, SUBJECT, BODY))
            letter_id, created_at = cur.fetchone()
            cur.execute(queries.INSERT_SENT_COPY, (self.mailbox_id, letter_id, created_at))
            cur.fetchone()
            cur.execute(queries.INSERT_INBOX_COPIES, {"letter": letter_id, "created_at": created_at,
                                                      "recipients": ids})
            cur.execute(queries.ADD_INBOX_UNREAD, {"recipients": ids})

    def close(self):
        self.conn.close()


class Api:
    """The same two operations as HTTP requests to the gateway, on one keep-alive connection."""

    def __init__(self, base_url, key, recipients):
        parts = urlsplit(base_url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        self.letter = json.dumps({"to": recipients, "subject": SUBJECT, "body": BODY})

    def _call(self, method, path, body, status):
        self.conn.request(method, path, body=body, headers=self.headers)
        response = self.conn.getresponse()
        payload = response.read()
        assert response.status == status, payload[:300]
        return payload

    def list_page(self):
        page = json.loads(self._call("GET", f"/folders/inbox?limit={PAGE}", None, 200))
        assert len(page["letters"]) == PAGE

    def send(self):
        self._call("POST", "/letters", self.letter, 201)

    def close(self):
        self.conn.close()


def _client(target, operation, count, seconds, ready, go, results):
    """One load-generating process: `count` timed sequential calls, or as many calls as fit in `seconds`."""
    kind, args = target
    client = (RawSql if kind == "raw" else Api)(*args)
    call = getattr(client, operation)
    for _ in range(20):     # warm the connection and, through the API, an execution environment
        call()
    ready.put(True)
    go.wait()
    if count:
        samples = []
        for _ in range(count):
            started = time.perf_counter()
            call()
            samples.append((time.perf_counter() - started) * 1000)
        results.put(samples)
    else:
        done, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            call()
            done += 1
        results.put(done / (time.perf_counter() - started))
    client.close()


def _processes(target, operation, clients, count=0, seconds=0.0):
    # Clients run in their own processes: in this one they would share the GIL with the gateway.
    context = multiprocessing.get_context("spawn")
    ready, go, results = context.Queue(), context.Event(), context.Queue()
    workers = [context.Process(target=_client, args=(target, operation, count, seconds, ready, go, results))
               for _ in range(clients)]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.get(timeout=120)
    go.set()
    values = [results.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join()
        if worker.exitcode:
            raise RuntimeError(f"a {target[0]} {operation} client failed (exit {worker.exitcode})")
    return values


def latencies(target, operation, count):
    """Milliseconds of `count` sequential calls by one client."""
    return _processes(target, operation, 1, count=count)[0]


def throughput(target, operation, seconds, concurrency):
    """Operations per second of `concurrency` clients calling as fast as they can for `seconds`."""
    return sum(_processes(target, operation, concurrency, seconds=seconds))


def alternating(rounds, measure):
    """{kind: [measure(kind) per round]} after a warm-up round, raw and API taking turns at going first."""
    return alternate(rounds, {"raw": lambda: measure("raw"), "api": lambda: measure("api")})


def server_setting(url, name):
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT current_setting(%s)", (name,))
        value = cur.fetchone()[0]
    conn.close()
    return value


def percentile(samples, fraction):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main(argv=None):
    """Run the benchmark and print the figures; exit status 1 if a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/platform_bench")
    parser.add_argument("--letters", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=1000, help="sequential list requests for p50/p99")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each throughput run")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3, help="alternating raw/API rounds (medians are reported)")
    args = parser.parse_args(argv)
    print(TARGETS.describe())

    fill(args.pg_url, args.letters, args.users)
    key, mailbox_id, address, recipients = prepare(args.pg_url)
    index_backed = explain(args.pg_url, mailbox_id)
    print(f"benchmark mailbox: {address}; sending to {len(recipients)} recipients; "
          f"concurrency {args.concurrency}")

    cloud = Cloud(str(ROOT / "template.yaml"), {"DatabaseUrl": args.pg_url}, functions=["MailboxFunction"])
    cloud.start()
    try:
        targets = {"raw": ("raw", (args.pg_url, key, mailbox_id, recipients)),
                   "api": ("api", (cloud.api_url("MailboxApi"), key, recipients))}
        lists = alternating(args.rounds, lambda kind: latencies(targets[kind], "list_page", args.requests))
        results = {operation: alternating(args.rounds, lambda kind: throughput(
                       targets[kind], operation, args.seconds, args.concurrency))
                   for operation in ("list_page", "send")}
        pool = cloud.runtime.pools["MailboxFunction"]
        workers, most = len(pool.idle), pool.concurrency
    finally:
        cloud.stop()

    synchronous_commit = server_setting(args.pg_url, "synchronous_commit")
    print(f"\ncompared ({args.rounds} alternating rounds, medians):")
    print(f"  work, both sides per operation: list = API-key lookup + a page of {PAGE} (+1) + the unread count; "
          f"send = key lookup + {RECIPIENTS} recipients resolved + letter + sent copy + {RECIPIENTS} inbox copies "
          "+ unread counters; the same statements (chalicelib/queries.py) on the same database")
    print("  durability, both sides: one committed transaction per operation "
          f"(synchronous_commit={synchronous_commit})")
    print(f"  processes: raw SQL = {args.concurrency} client processes (psycopg2, one connection each); "
          f"API = {args.concurrency} client processes (HTTP keep-alive) + the HTTP gateway + {workers} "
          f"MailboxFunction worker process(es) left warm (at most {most})")

    def medians(samples_per_round, fraction):
        return statistics.median(percentile(samples, fraction) for samples in samples_per_round)

    print()
    print(f"{'list a page of 50 (sequential, ms)':40} {'p50':>8} {'p99':>8} {'mean':>8}")
    for kind, name in (("raw", "raw SQL (psycopg2)"), ("api", "API via HTTP gateway")):
        print(f"  {name:38} {medians(lists[kind], 0.5):8.2f} {medians(lists[kind], 0.99):8.2f} "
              f"{statistics.median(statistics.mean(s) for s in lists[kind]):8.2f}")
    print(f"  {'API/raw SQL latency ratio':38} {medians(lists['api'], 0.5) / medians(lists['raw'], 0.5):8.2f} "
          f"{medians(lists['api'], 0.99) / medians(lists['raw'], 0.99):8.2f}")
    print(f"\n{'throughput (ops/s, %d clients)' % args.concurrency:40} {'raw SQL':>9} {'API':>9} {'API/raw':>8}"
          "   per round (raw / API)")
    # The ratio is the median of each round's API/raw: a round's two runs are next to each other in time.
    ratios = {operation: statistics.median(a / r for r, a in zip(results[operation]["raw"], results[operation]["api"]))
              for operation in results}
    for operation, label in (("list_page", "list a page of 50 (info)"), ("send", f"send to {RECIPIENTS} recipients")):
        raw_ops, api_ops = (statistics.median(results[operation][kind]) for kind in ("raw", "api"))
        rounds = ", ".join(f"{r:.0f}/{a:.0f}" for r, a in zip(results[operation]["raw"], results[operation]["api"]))
        print(f"  {label:38} {raw_ops:9.1f} {api_ops:9.1f} {ratios[operation]:8.2f}   {rounds}")
    print("  (API/raw: the median of the rounds' ratios)")

    api_p99 = medians(lists["api"], 0.99)
    raw_p99s = ", ".join(f"{percentile(s, 0.99):.2f}" for s in lists["raw"])
    api_p99s = ", ".join(f"{percentile(s, 0.99):.2f}" for s in lists["api"])
    sends = ", ".join(f"{a / r:.2f}" for r, a in zip(results["send"]["raw"], results["send"]["api"]))
    print()
    TARGETS.figure("send_vs_raw", ratios["send"], f"[rounds {sends}]")
    TARGETS.figure("list_p99_ms", api_p99, f"[rounds {api_p99s} ms; raw SQL rounds {raw_p99s} ms]")
    TARGETS.figure("list_index_backed", 1 if index_backed else 0)
    return TARGETS.exit_code()


if __name__ == "__main__":
    sys.exit(main())
