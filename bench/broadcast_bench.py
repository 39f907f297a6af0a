"""Benchmark: 10,000 numbers in one broadcast form post, against a naive one-SendMessage-per-number loop.

Measured in one run, against the local moto SQS and MariaDB:
  1. the form post through the local cloud (gateway -> BroadcastWebFunction): validate, store, queue
     the fan-out jobs; then how long until the sender has put all 10,000 delayed messages on the queue;
  2. for reference, the same 10,000 messages sent from one process with parallel SendMessageBatch;
  3. the naive baseline in-process: same validation and storage, then one SendMessage per number.
Targets: the form post under 2 s and at least 10x faster than the naive baseline.

Usage: .venv/bin/python bench/broadcast_bench.py [--numbers 10000] [--naive-sample N]
(MariaDB must run; the database `broadcast_bench` is created and migrated.)
"""
import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "common" / "python")]

BENCH_MYSQL_URL = os.environ.get("BENCH_MYSQL_URL", "mysql://root@127.0.0.1:3306/broadcast_bench")
USER, PASSWORD = "bench", "bench-password"
TARGET_SECONDS, TARGET_RATIO = 2.0, 10.0


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


def fast_path(cloud, numbers_text, count, sql):
    """(seconds for the form post, seconds until every recipient has its own queued message)."""
    import requests
    from functions.broadcast.chalicelib import auth, settings
    token = auth.csrf_token(settings.read({"BROADCAST_USER": USER, "BROADCAST_PASSWORD": PASSWORD,
                                           "BROADCAST_QUEUE_URL": "unused-by-the-form-token"}))
    url = cloud.api_url("BroadcastApi") + "/broadcasts"
    session = requests.Session()
    session.auth = (USER, PASSWORD)
    warm = session.post(url, data={"text": "warm-up", "numbers": "+79990000000", "csrf": token},
                        allow_redirects=False, timeout=60)
    assert warm.status_code == 303, warm.text[:500]
    started = time.perf_counter()
    resp = session.post(url, data={"text": "Benchmark broadcast", "numbers": numbers_text, "csrf": token},
                        allow_redirects=False, timeout=120)
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


def direct_batches(queue_url, count):
    """Seconds to send count delayed messages from this process with the product's parallel SendMessageBatch."""
    from functions.broadcast.chalicelib import queue_messages, sqs
    messages = [(n, queue_messages.send(n), d) for n, d in enumerate(sqs.choose_delays(count, (5, 50)))]
    started = time.perf_counter()
    failed = sqs.send_all(queue_url, messages)
    assert not failed, f"{len(failed)} messages failed"
    return time.perf_counter() - started


def naive_path(queue_url, numbers_text, sample):
    """Seconds for validate + store + one SendMessage per number (extrapolated if sample < all)."""
    import boto3
    from functions.broadcast.chalicelib import broadcasts, forms, queue_messages, sqs
    client = boto3.client("sqs")
    started = time.perf_counter()
    form = forms.validate({"text": "Naive broadcast", "numbers": numbers_text}, "RU")
    numbers = form.parsed.numbers
    delays = sqs.choose_delays(len(numbers), (5, 50))
    _bid, (low, high) = broadcasts.create(form.text, numbers, form.parsed.duplicates, delays)
    ids = range(low, high + 1)      # one multi-row INSERT with nothing else inserting: consecutive ids
    prepared = time.perf_counter() - started
    send_started = time.perf_counter()
    for recipient_id, delay in list(zip(ids, delays))[:sample]:
        client.send_message(QueueUrl=queue_url, MessageBody=queue_messages.send(recipient_id),
                            DelaySeconds=delay)
    sending = (time.perf_counter() - send_started) * len(ids) / sample
    return prepared + sending, sample < len(ids)


def main(argv=None):
    """Run the three measurements and print them with the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=10000)
    parser.add_argument("--naive-sample", type=int, default=0,
                        help="time only this many naive SendMessage calls and extrapolate (default: all)")
    args = parser.parse_args(argv)
    import logging
    logging.basicConfig(level=logging.WARNING)
    from local.moto_patches import make_sqs_sends_linear
    make_sqs_sends_linear()

    import boto3
    import pymysql.cursors
    from common import db
    from infra import migrate
    from local.cloud import Cloud, start_moto
    from local.emulators.chatapp import ChatAppEmulator

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
    cloud = Cloud(str(ROOT / "template.yaml"), {
        "MysqlUrl": BENCH_MYSQL_URL, "BroadcastUser": USER, "BroadcastPassword": PASSWORD,
        "BroadcastWebhookSecret": "bench", "ChatAppBaseUrl": emulator.url,
    }, aws_endpoint=endpoint, functions=["BroadcastWebFunction", "BroadcastSenderFunction"]).start()
    numbers_text = "\n".join(unique_numbers(args.numbers))
    sqs_client = boto3.client("sqs")
    try:
        posted, all_queued = fast_path(cloud, numbers_text, args.numbers, sql)
        cloud.stop()
        cloud = None
        direct = direct_batches(sqs_client.create_queue(QueueName="bench-direct")["QueueUrl"], args.numbers)
        naive_queue = sqs_client.create_queue(QueueName="bench-naive")["QueueUrl"]
        naive, extrapolated = naive_path(naive_queue, numbers_text, args.naive_sample or args.numbers)
    finally:
        if cloud:
            cloud.stop()
        emulator.stop()
        moto.stop()

    n = f"{args.numbers:,}"
    ratio = naive / posted
    print(f"\nbroadcast bench: {n} numbers, local moto SQS (SendMessage made linear, see local/moto_patches.py)")
    print(f"  form post (validate + store + queue {-(-args.numbers // 500)} fan-out jobs), via gateway: "
          f"{posted:6.2f} s")
    print(f"  ...until all {n} delayed messages are queued (fan-out by the sender):  {all_queued:6.2f} s")
    print(f"  reference: {n} messages by parallel SendMessageBatch from one process:   {direct:6.2f} s")
    print(f"  naive: validate + store + one SendMessage per number{' (extrapolated)' if extrapolated else ''}:"
          f"{naive:16.2f} s")
    print(f"  ratio naive / form post: {ratio:.1f}x   (naive / all queued: {naive / all_queued:.1f}x)")
    ok_time, ok_ratio = posted < TARGET_SECONDS, ratio >= TARGET_RATIO
    print(f"  target form post < {TARGET_SECONDS:.0f} s: {'PASS' if ok_time else 'FAIL'}")
    print(f"  target >= {TARGET_RATIO:.0f}x faster than naive: {'PASS' if ok_ratio else 'FAIL'}")
    return 0 if ok_time and ok_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
