"""Benchmark: 10,000 numbers in one broadcast form post, against the fair reference doing the same work.

Measured in one run, against the local moto SQS and MariaDB, paths 1 and 2 once each to warm up and then
--runs times in alternating order (default 3; medians and their range reported, the queue emptied before
every run):
  1. the form post through the local cloud (gateway -> BroadcastWebFunction): validate, store, queue
     the fan-out jobs; then how long until the sender has put all 10,000 delayed messages on the queue;
  2. the fair reference in-process, the same work: validate, store, then the same 10,000 delayed messages
     sent from one process with the product's parallel SendMessageBatch;
  3. for information, the naive loop: same validation and storage, then one SendMessage per number.
Targets (TARGETS below): the form post under 2 s (the product's promise; median of runs); until every
message is queued, no slower than the fair reference (2): reference / ours >= 1.0x, medians of alternating runs.
The first issue's "10x faster" was measured against the naive loop (3), a baseline built to lose: naive / ours is
printed for information, not gated. Against the fair reference 10x cannot be had by this design: the product does
the same SendMessageBatch calls, only spread over the sender functions' concurrency (on 2 cores: about 1.8x at
10,000 numbers; below 1x at 500, where the fan-out's fixed cost dominates).

Usage: .venv/bin/python bench/broadcast_bench.py [--numbers 10000] [--naive-sample N] [--runs 3]
Small: --numbers 500 --runs 3. BENCH_TARGETS=name=value overrides a target (bench/_gate.py).
(MariaDB must run; the database `broadcast_bench` is created and migrated.)
"""
import argparse
import os
import random
import re
import sys
import time
from pathlib import Path

from _gate import Target, Targets, alternate, median, spread

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "common" / "python")]

BENCH_MYSQL_URL = os.environ.get("BENCH_MYSQL_URL", "mysql://root@127.0.0.1:3306/broadcast_bench")
USER, PASSWORD = "bench", "bench-password"
TARGETS = Targets(
    Target("post_s", "form post, median of runs (the product's promise)", "<", 2.0, " s"),
    Target("queued_vs_reference", "until all queued: reference (validate + store + parallel SendMessageBatch, "
           "one process) / ours", ">=", 1.0, "x"),
)


def unique_numbers(count, seed=2026):
    """count distinct valid Russian mobile numbers, formatted the way people paste them."""
    from functions.broadcast.chalicelib import phones
    rng, seen, out = random.Random(seed), set(), []
    while len(out) < count:
        digits = (rng.randint(0, 99), rng.randint(0, 999), rng.randint(0, 99), rng.randint(0, 99))
        raw = "+7 9{:02d} {:03d}-{:02d}-{:02d}".format(*digits)
        phone = phones.normalise(raw)
        if phone and phone not in seen:
            seen.add(phone)
            out.append(raw)
    return out


def _empty(queue_url):
    """Drop whatever a previous run left on the cloud's queue, so every run starts from an empty queue
    (SQS allows one purge a minute: wait for it if the previous run was quicker)."""
    import boto3
    client = boto3.client("sqs")
    while True:
        try:
            return client.purge_queue(QueueUrl=queue_url)
        except client.exceptions.PurgeQueueInProgress:
            time.sleep(2)


def _fresh_queue(name):
    """A new empty queue for one run of the in-process paths."""
    import uuid

    import boto3
    return boto3.client("sqs").create_queue(QueueName=f"{name}-{uuid.uuid4().hex[:8]}")["QueueUrl"]


def _form_token(session, site):
    """The CSRF token as the rendered form carries it (what a browser submits)."""
    page = session.get(site + "/", timeout=60)
    assert page.status_code == 200, page.text[:500]
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def fast_path(cloud, numbers_text, count, sql):
    """A callable for one run: (seconds for the form post, seconds until every recipient has its own queued
    message)."""
    import requests
    site = cloud.api_url("BroadcastApi")
    queue_url = cloud.physical_id("BroadcastSendQueue")
    session = requests.Session()
    session.auth = (USER, PASSWORD)
    token = _form_token(session, site)
    runs = iter(range(10**9))

    def once():
        run = next(runs)
        _empty(queue_url)
        time.sleep(1.0)         # let a sender invocation holding messages of the previous run finish
        started = time.perf_counter()
        form = {"text": f"Benchmark broadcast {run}", "numbers": numbers_text, "csrf": token}
        resp = session.post(site + "/broadcasts", data=form, allow_redirects=False, timeout=120)
        posted = time.perf_counter() - started
        assert resp.status_code == 303, f"form post failed: {resp.status_code} {resp.text[:500]}"
        broadcast_id = int(resp.headers["Location"].rsplit("/", 1)[1])
        while True:
            left = sql("SELECT COUNT(*) AS n FROM broadcast_recipients WHERE broadcast_id = %s AND enqueued_at IS NULL",
                       broadcast_id)[0]["n"]
            if not left:
                break
            if time.perf_counter() - started > 300:
                raise SystemExit(f"fan-out did not finish in 300 s ({left} recipients left)")
            time.sleep(0.05)
        all_queued = time.perf_counter() - started
        stored = sql("SELECT COUNT(*) AS n FROM broadcast_recipients WHERE broadcast_id = %s", broadcast_id)[0]["n"]
        assert stored == count, f"{stored} recipients stored, expected {count}"
        return posted, all_queued
    return once


def reference_once(numbers_text):
    """Seconds for the fair reference: the same validation and storage as the product, then every delayed
    message sent from this process with the product's parallel SendMessageBatch (a fresh queue)."""
    from common import queue as sqs_queue
    from functions.broadcast.chalicelib import broadcasts, forms, pacing, queue_messages
    queue_url = _fresh_queue("bench-reference")
    started = time.perf_counter()
    form = forms.validate({"text": "Reference broadcast", "numbers": numbers_text}, "RU")
    numbers = form.parsed.numbers
    delays = pacing.choose_delays(len(numbers), (5, 50))
    _bid, (low, high) = broadcasts.create(form.text, numbers, form.parsed.duplicates, delays)
    messages = [(rid, queue_messages.Send(rid).body(), d) for rid, d in zip(range(low, high + 1), delays)]
    failed = sqs_queue.send_all(queue_url, messages)
    assert not failed, f"{len(failed)} messages failed"
    return time.perf_counter() - started


def naive_path(numbers_text, sample, runs):
    """Seconds per run for validate + store + one SendMessage per number (extrapolated if sample < all),
    after a warm-up run."""
    results = [_naive_once(_fresh_queue("bench-naive"), numbers_text, sample) for _ in range(runs + 1)][1:]
    return [seconds for seconds, _extrapolated in results], results[0][1]


def _naive_once(queue_url, numbers_text, sample):
    import boto3
    from functions.broadcast.chalicelib import broadcasts, forms, pacing, queue_messages
    client = boto3.client("sqs")
    started = time.perf_counter()
    form = forms.validate({"text": "Naive broadcast", "numbers": numbers_text}, "RU")
    numbers = form.parsed.numbers
    delays = pacing.choose_delays(len(numbers), (5, 50))
    _bid, (low, high) = broadcasts.create(form.text, numbers, form.parsed.duplicates, delays)
    ids = range(low, high + 1)      # one multi-row INSERT with nothing else inserting: consecutive ids
    prepared = time.perf_counter() - started
    send_started = time.perf_counter()
    for recipient_id, delay in list(zip(ids, delays))[:sample]:
        client.send_message(QueueUrl=queue_url, MessageBody=queue_messages.Send(recipient_id).body(),
                            DelaySeconds=delay)
    sending = (time.perf_counter() - send_started) * len(ids) / sample
    return prepared + sending, sample < len(ids)


def _workers(cloud, function_id):
    pool = cloud.runtime.pools[function_id]
    return f"{len(pool.idle)} {function_id} worker process(es) left warm (at most {pool.concurrency})"


def report(count, runs, fast, direct, naive, extrapolated, processes):
    """Print what was compared, the medians and the targets; returns the exit status."""
    n = f"{count:,}"
    posted = median(p for p, _q in fast)
    all_queued = median(q for _p, q in fast)
    naive_median, direct_median = median(naive), median(direct)
    ratio = naive_median / all_queued

    def each(values):
        return spread(values)

    print(f"\nbroadcast bench: {n} numbers, local moto SQS (SendMessage made linear, localcloud/moto_patches.py)")
    print(f"compared: 1 warm-up + {runs} measured runs per path (product and reference alternating), medians "
          "(range, count); every run starts on an empty queue")
    print(TARGETS.describe())
    print(f"  work, both paths: validate {n} pasted numbers, store the broadcast and {n} recipients in MariaDB, "
          f"put {n} messages with a 5-50 s delay on one SQS queue (the product also passes the gateway and "
          f"queues {-(-count // 500)} fan-out jobs first)")
    print("  durability, both paths: every recipient row committed and every message accepted by SQS before the "
          "clock stops (the product also commits enqueued_at per recipient)")
    print(f"  processes: reference = 1 process, parallel SendMessageBatch; naive = 1 process, one SendMessage "
          f"at a time; product = {processes}; "
          "the sender puts messages with parallel SendMessageBatch")
    print(f"  form post (validate + store + queue the fan-out jobs), via gateway: "
          f"{posted:6.2f} s   runs: {each([p for p, _q in fast])}")
    print(f"  ...until all {n} delayed messages are queued (fan-out by the sender):  "
          f"{all_queued:6.2f} s   runs: {each([q for _p, q in fast])}")
    print(f"  reference: validate + store + parallel SendMessageBatch from one process: "
          f"{direct_median:6.2f} s   runs: {each(direct)}")
    print(f"  naive: validate + store + one SendMessage per number{' (extrapolated)' if extrapolated else ''}:"
          f"{naive_median:16.2f} s   runs: {each(naive)}")
    print(f"  ratio naive / until all queued (equal work, information only: a baseline built to lose): {ratio:.1f}x")
    print(f"  ratio naive / form post (unequal work, information only): {naive_median / posted:.1f}x")
    TARGETS.figure("post_s", posted, f"[runs {each([p for p, _q in fast])} s]")
    TARGETS.ratio("queued_vs_reference", direct, [q for _p, q in fast], labels=("reference", "ours"))
    return TARGETS.exit_code()


def start_stack():
    """The bench database emptied, moto, the ChatApp emulator and the broadcast functions through the
    local cloud: (sql(statement, *params) -> rows, cloud, emulator, moto)."""
    import pymysql.cursors
    from common import db
    from infra import migrate
    from localcloud.cloud import Cloud, start_moto
    from emulators.chatapp import ChatAppEmulator

    migrate.migrate_mysql(BENCH_MYSQL_URL)
    os.environ["MYSQL_URL"] = BENCH_MYSQL_URL
    conn = db.mysql_connect(BENCH_MYSQL_URL, autocommit=True, cursorclass=pymysql.cursors.DictCursor)

    def sql(statement, *params):
        with conn.cursor() as cur:
            cur.execute(statement, params or None)
            return cur.fetchall()

    sql("DELETE FROM broadcast_recipients")
    sql("DELETE FROM broadcasts")
    moto, endpoint = start_moto()
    os.environ.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                      AWS_DEFAULT_REGION="us-east-1")
    emulator = ChatAppEmulator().start()
    from cryptography.fernet import Fernet
    cloud = Cloud(str(ROOT / "template.yaml"), {
        "MysqlUrl": BENCH_MYSQL_URL, "BroadcastUser": USER, "BroadcastPassword": PASSWORD,
        "BroadcastWebhookSecret": "bench", "ChatAppBaseUrl": emulator.url,
        "SecretKey": Fernet.generate_key().decode(),   # ChatApp tokens are stored encrypted with it
    }, aws_endpoint=endpoint, functions=["BroadcastWebFunction", "BroadcastSenderFunction"]).start()
    return sql, cloud, emulator, moto


def main(argv=None):
    """Run the three measurements and print them with the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=10000)
    parser.add_argument("--naive-sample", type=int, default=0,
                        help="time only this many naive SendMessage calls and extrapolate (default: all)")
    parser.add_argument("--runs", type=int, default=3, help="measured runs per path, after one warm-up (>= 3)")
    args = parser.parse_args(argv)
    if args.runs < 3:
        parser.error("--runs must be at least 3 (medians of fewer runs are not worth gating)")
    import logging
    logging.basicConfig(level=logging.WARNING)
    from localcloud.moto_patches import make_sqs_sends_linear
    make_sqs_sends_linear()

    sql, cloud, emulator, moto = start_stack()
    numbers_text = "\n".join(unique_numbers(args.numbers))
    try:
        runs = alternate(args.runs, {"product": fast_path(cloud, numbers_text, args.numbers, sql),
                                     "reference": lambda: reference_once(numbers_text)})
        fast, direct = runs["product"], runs["reference"]
        processes = (f"the HTTP gateway and the SQS poller (in the bench process), "
                     f"{_workers(cloud, 'BroadcastWebFunction')}, {_workers(cloud, 'BroadcastSenderFunction')}")
        cloud.stop()
        cloud = None
        naive, extrapolated = naive_path(numbers_text, args.naive_sample or args.numbers, args.runs)
    finally:
        if cloud:
            cloud.stop()
        emulator.stop()
        moto.stop()

    return report(args.numbers, args.runs, fast, direct, naive, extrapolated, processes)


if __name__ == "__main__":
    sys.exit(main())
