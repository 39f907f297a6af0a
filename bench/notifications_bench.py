"""Notifications benchmark: dispatching a mailing to 100,000 clients against a bare INSERT ... SELECT +
SendMessageBatch loop in the same run, and the stats queries over 1,000,000 messages.

Usage (from the repo root):
  .venv/bin/python bench/notifications_bench.py [--pg-url URL] [--clients 100000] [--repeats 3]
         [--stats-messages 1000000] [--stats-runs 300]
Uses its own database (default notifications_bench; created and migrated here) and moto in a child process.
Both sides commit the messages (same durability) and send them with the same 8 parallel SendMessageBatch
callers, so the ratio is the product's own overhead (lease, window grouping, bookkeeping). Alternating
repeats after one warm-up round, medians (with their range). Targets (TARGETS below): dispatch <= 1.5x the
bare loop; the product's promises as medians of repeats: dispatch < 10 s, every stats query's p99 < 50 ms
(the median of --repeats groups of its runs).
Small: --clients 2000 --repeats 3 --stats-messages 20000 --stats-runs 60. BENCH_TARGETS overrides targets.
"""
import argparse
import json
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "common" / "python")]

import boto3  # noqa: E402
import psycopg2  # noqa: E402
from _gate import Target, Targets, median, spread  # noqa: E402

TARGETS = Targets(
    Target("dispatch_vs_bare", "dispatch / bare INSERT ... SELECT + SendMessageBatch loop", "<=", 1.5, "x"),
    Target("dispatch_s", "dispatch of the mailing, median of repeats (the product's promise)", "<", 10.0, " s"),
    Target("stats_p99_ms", "slowest stats query's p99, median of repeats (the product's promise)", "<", 50.0, " ms"),
)
ZONES = ["Europe/Moscow", "Europe/Kaliningrad", "Asia/Yekaterinburg", "Asia/Novosibirsk", "Asia/Vladivostok"]


def fill_clients(conn, clients):
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM notifications.clients")
        have = cur.fetchone()[0]
        if have < clients:
            cur.execute("""
                INSERT INTO notifications.clients (phone, operator_code, tag, timezone)
                SELECT '79' || lpad(n::text, 9, '0'), '9' || substr(lpad(n::text, 9, '0'), 1, 2),
                       (ARRAY['vip', 'new', ''])[1 + n %% 3], (%s::text[])[1 + n %% 5]
                FROM generate_series(%s, %s) n ON CONFLICT DO NOTHING""",
                        (ZONES, have + 1, clients))
    conn.commit()


def new_mailing(conn, start):
    with conn.cursor() as cur:
        cur.execute("INSERT INTO notifications.mailings (start_at, end_at, text) VALUES (%s, %s, 'bench') "
                    "RETURNING id", (start, start + timedelta(days=1)))
        mailing_id = cur.fetchone()[0]
    conn.commit()
    return mailing_id


def product_dispatch(queue_url, mailing_id, now):
    from functions.notifications.chalicelib import settings as product_settings
    from functions.notifications.chalicelib.dispatch import dispatcher
    settings = product_settings.Settings(send_queue_url=queue_url, lease_seconds=300)
    started = time.perf_counter()
    queued = dispatcher.dispatch(settings, mailing_id, now)
    return time.perf_counter() - started, queued


def bare_loop(conn, queue_url, mailing_id):
    """INSERT ... SELECT RETURNING, commit, then SendMessageBatch in tens with the same parallelism."""
    from common import queue
    sqs = queue.client()
    started = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute("INSERT INTO notifications.messages (mailing_id, client_id) SELECT %s, id "
                    "FROM notifications.clients RETURNING id, client_id", (mailing_id,))
        rows = cur.fetchall()
    conn.commit()
    entries = [{"Id": str(i), "MessageBody": json.dumps({"message_id": i, "mailing_id": mailing_id,
                                                         "client_id": c})} for i, c in rows]
    batches = [entries[i:i + 10] for i in range(0, len(entries), 10)]
    with ThreadPoolExecutor(max_workers=queue.WORKERS) as pool:
        list(pool.map(lambda batch: sqs.send_message_batch(QueueUrl=queue_url, Entries=batch), batches))
    return time.perf_counter() - started, len(entries)


def bench_dispatch(conn, sqs, repeats, clients):
    mine, bare = [], []
    for repeat in range(repeats + 1):       # round 0 warms both sides up and is not counted
        for side in ("product", "bare") if repeat % 2 == 0 else ("bare", "product"):
            url = sqs.create_queue(QueueName=f"bench-{uuid.uuid4().hex[:8]}")["QueueUrl"]
            now = datetime.now(timezone.utc)
            mailing_id = new_mailing(conn, now - timedelta(seconds=1))
            if side == "product":
                seconds, queued = product_dispatch(url, mailing_id, now)
            else:
                seconds, queued = bare_loop(conn, url, mailing_id)
            if repeat:
                (mine if side == "product" else bare).append(seconds)
            visible = int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
                          ["Attributes"]["ApproximateNumberOfMessages"])
            assert queued == clients and visible == clients, (side, queued, visible)
            print(f"  {side:8s} {f'repeat {repeat}' if repeat else 'warm-up'}: {seconds:6.2f} s for {queued} messages",
                  flush=True)
            sqs.delete_queue(QueueUrl=url)
            with conn.cursor() as cur:          # keep the table the same size for every repeat
                cur.execute("DELETE FROM notifications.mailings WHERE id = %s", (mailing_id,))
            conn.commit()
    return mine, bare


def bench_database_part(conn, repeats):
    """The message creation alone (no SQS): the product's statement against a bare INSERT ... SELECT."""
    from common import db
    from functions.notifications.chalicelib.dispatch import dispatcher
    from functions.notifications.chalicelib.mailings.store import get
    mine, bare = [], []
    for repeat in range(repeats):
        for side in ("product", "bare") if repeat % 2 == 0 else ("bare", "product"):
            mailing_id = new_mailing(conn, datetime.now(timezone.utc) - timedelta(seconds=1))
            started = time.perf_counter()
            if side == "product":
                with db.pg_transaction() as cur:
                    rows = dispatcher._create_messages(cur, get(cur, mailing_id), datetime.now(timezone.utc))
                mine.append(time.perf_counter() - started)
            else:
                with conn.cursor() as cur:
                    cur.execute("INSERT INTO notifications.messages (mailing_id, client_id) SELECT %s, id "
                                "FROM notifications.clients RETURNING id, client_id", (mailing_id,))
                    rows = cur.fetchall()
                conn.commit()
                bare.append(time.perf_counter() - started)
            assert rows
            with conn.cursor() as cur:
                cur.execute("DELETE FROM notifications.mailings WHERE id = %s", (mailing_id,))
            conn.commit()
    return statistics.median(mine), statistics.median(bare)


def fill_messages(conn, total, clients):
    """Mailings of `clients` messages each until the table holds `total`, with mixed statuses."""
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM notifications.messages")
        have = cur.fetchone()[0]
        while have < total:
            cur.execute("INSERT INTO notifications.mailings (start_at, end_at, text, dispatch_state) "
                        "VALUES (now() - interval '1 day', now() + interval '1 day', 'stats', 'done') RETURNING id")
            mailing_id = cur.fetchone()[0]
            cur.execute("""
                INSERT INTO notifications.messages (mailing_id, client_id, status, attempts)
                SELECT %s, id, (ARRAY['sent', 'sent', 'sent', 'error', 'expired', 'processing'])[1 + id %% 6], 1
                FROM notifications.clients ORDER BY id LIMIT %s""", (mailing_id, total - have))
            have += cur.rowcount
            conn.commit()
    conn.commit()
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE notifications.messages")
        cur.execute("VACUUM ANALYZE notifications.message_counts")
    conn.autocommit = False


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def time_query(conn, statement, params, runs, groups=1):
    """(p50, p99) in ms: the medians over `groups` consecutive groups of runs of each group's figure."""
    samples = []
    with conn.cursor() as cur:
        cur.execute(statement, params)      # warm-up, not counted
        cur.fetchall()
        for _ in range(runs):
            started = time.perf_counter()
            cur.execute(statement, params)
            cur.fetchall()
            samples.append((time.perf_counter() - started) * 1000)
    conn.rollback()
    size = max(1, runs // groups)
    chunks = [samples[i:i + size] for i in range(0, size * groups, size) if samples[i:i + size]]
    return median(statistics.median(c) for c in chunks), median(percentile(c, 0.99) for c in chunks)


def moto_process():
    """moto in its own process (as the local cloud's is, seen from a function): the dispatcher's threads and
    moto's do not share one interpreter lock. It binds port 0 itself and says its endpoint on its first line."""
    import subprocess
    code = ("import sys, time; sys.path[:0] = [%r]; from localcloud.cloud import start_moto; "
            "print(start_moto()[1], flush=True); time.sleep(10 ** 6)" % str(ROOT))
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    endpoint = process.stdout.readline().strip()
    if not endpoint.startswith("http://"):
        process.terminate()
        raise RuntimeError("moto did not start")
    return process, endpoint


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/notifications_bench")
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--stats-messages", type=int, default=1_000_000)
    parser.add_argument("--stats-runs", type=int, default=300)
    args = parser.parse_args(argv)
    print(TARGETS.describe())

    import os
    from infra import migrate
    migrate.migrate_postgres(args.pg_url)
    os.environ["DATABASE_URL"] = args.pg_url
    server, endpoint = moto_process()
    os.environ.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                      AWS_DEFAULT_REGION="us-east-1")
    sqs = boto3.client("sqs")
    conn = psycopg2.connect(args.pg_url)
    try:
        with conn.cursor() as cur:
            cur.execute("TRUNCATE notifications.messages, notifications.message_counts, notifications.mailings")
        conn.commit()
        fill_clients(conn, args.clients)
        print(f"dispatch: a mailing to {args.clients} clients, {args.repeats} alternating repeats", flush=True)
        mine_runs, bare_runs = bench_dispatch(conn, sqs, args.repeats, args.clients)
        mine = median(mine_runs)
        TARGETS.ratio("dispatch_vs_bare", mine_runs, bare_runs, labels=("dispatch", "bare loop"))
        TARGETS.figure("dispatch_s", mine, f"[runs {spread(mine_runs)} s]")

        db_mine, db_bare = bench_database_part(conn, args.repeats)
        print(f"database part alone (messages created and committed, no SQS): {db_mine:.2f} s vs bare "
              f"INSERT ... SELECT {db_bare:.2f} s: {db_mine / db_bare:.2f}x")

        from functions.notifications.chalicelib import queries
        fill_messages(conn, args.stats_messages, args.clients)
        with conn.cursor() as cur:
            cur.execute("SELECT count(*), count(DISTINCT mailing_id) FROM notifications.messages")
            total, mailings = cur.fetchone()
            cur.execute("SELECT max(mailing_id) FROM notifications.messages")
            busiest = cur.fetchone()[0]
        conn.commit()
        print(f"stats over {total} messages in {mailings} mailings, {args.stats_runs} runs each "
              f"(medians of {args.repeats} groups):")
        naive = ("SELECT mailing_id, status, count(*) FROM notifications.messages GROUP BY 1, 2")
        results = {
            "overall stats (one query)": time_query(conn, queries.OVERALL_STATS, None, args.stats_runs, args.repeats),
            "one mailing's counts": time_query(conn, queries.MAILING_COUNTS, (busiest,), args.stats_runs,
                                               args.repeats),
            "one mailing's messages page": time_query(conn, queries.MAILING_MESSAGES, (busiest, 0, 100),
                                                      args.stats_runs, args.repeats),
            "baseline: GROUP BY over messages": time_query(conn, naive, None, max(5, args.stats_runs // 30)),
        }
        for name, (p50, p99) in results.items():
            print(f"  {name:34s} p50 {p50:8.2f} ms  p99 {p99:8.2f} ms")
        worst = max(p99 for name, (_p50, p99) in results.items() if not name.startswith("baseline"))
        base_p99 = results["baseline: GROUP BY over messages"][1]
        TARGETS.figure("stats_p99_ms", worst, f"[baseline GROUP BY over messages p99 {base_p99:.2f} ms, "
                                              f"{base_p99 / worst:.1f}x slower]")
        return TARGETS.exit_code()
    finally:
        conn.close()
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    sys.exit(main())
