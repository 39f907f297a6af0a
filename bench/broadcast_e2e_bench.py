"""Benchmark: one broadcast to 10,000 numbers end to end through the local cloud.

From the form post (gateway -> BroadcastWebFunction) through the fan-out and the random 5-50 s delays
to every recipient's final status (sent through the ChatApp emulator, no latency), against the local
moto SQS and MariaDB. The baseline of every message is its own drawn delay (when it is due); the targets
(TARGETS below) are on its lateness, sent time - (queued time + delay): p99 and max, medians of --runs
broadcasts, and never early. The total from the post to the last final status is printed, not gated
(it is mostly the longest drawn delay). Also printed: each function's invocations and busy time (the
console's record of the runtime).

Also printed: the database's durability settings as found (never changed for the bench) and the sender's busy
time per recipient (all its invocations' durations / numbers: the per-message cost the concurrency divides).

Usage: .venv/bin/python bench/broadcast_e2e_bench.py [--numbers 10000] [--runs 3] [--sender-concurrency N]
Small: --numbers 200 --runs 1 (still about a minute: the delays are 5-50 s). BENCH_TARGETS overrides targets.
(BENCH_MYSQL_URL picks the database, emptied first; default broadcast_bench. The fan-out comparison against a
naive loop is bench/broadcast_bench.py.)
"""
import argparse
import sys
import time
from datetime import datetime, timezone

import broadcast_bench as fanout_bench
from _gate import Target, Targets, median, percentile, spread
from broadcast_bench import PASSWORD, USER, unique_numbers

TARGETS = Targets(
    Target("late_p99_s", "lateness behind its own due time, p99 (median of runs)", "<=", 5.0, " s"),
    Target("late_max_s", "lateness behind its own due time, max (median of runs)", "<=", 10.0, " s"),
    Target("early_s", "earliest send relative to its due time (minimum over runs; never early)", ">=", 0.0, " s"),
)


def all_final(sql, broadcast_id, posted_at, timeout=300):
    """Wait until no recipient is queued or sending; returns (seconds from the post to the last final
    status, [each sent recipient's lateness behind queued_at + its delay, s], {status: count})."""
    deadline = time.monotonic() + timeout
    while True:
        left = sql("SELECT COUNT(*) AS n FROM broadcast_recipients WHERE broadcast_id = %s "
                   "AND status IN ('queued', 'sending')", broadcast_id)[0]["n"]
        if not left:
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"{left} recipients still not final after {timeout} s")
        time.sleep(0.5)     # the database is the truth here; polling it twice a second costs nothing
    row = sql("SELECT MAX(COALESCE(sent_at, not_sent_at, failed_at, updated_at)) AS last "
              "FROM broadcast_recipients WHERE broadcast_id = %s", broadcast_id)[0]
    late = [float(r["late"]) for r in sql(
        "SELECT TIMESTAMPDIFF(MICROSECOND, queued_at, COALESCE(sent_at, not_sent_at)) / 1e6 - delay_seconds AS late "
        "FROM broadcast_recipients WHERE broadcast_id = %s AND COALESCE(sent_at, not_sent_at) IS NOT NULL",
        broadcast_id)]
    statuses = {r["status"]: r["n"] for r in sql(
        "SELECT status, COUNT(*) AS n FROM broadcast_recipients WHERE broadcast_id = %s GROUP BY status", broadcast_id)}
    return (row["last"] - posted_at).total_seconds(), late, statuses


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3, help="broadcasts, one after another (medians gated)")
    parser.add_argument("--sender-concurrency", type=int, default=0,
                        help="sender poller threads instead of the template's ScalingConfig (to find the limit)")
    args = parser.parse_args(argv)
    import logging
    logging.basicConfig(level=logging.WARNING)
    from localcloud import moto_patches
    moto_patches.apply()

    import requests
    from localcloud.console.observe import Changes, Invocations

    sql, cloud, emulator, moto = fanout_bench.start_stack()
    durability = sql("SELECT @@innodb_flush_log_at_trx_commit AS flush, @@sync_binlog AS sync_binlog, "
                     "@@log_bin AS log_bin")[0]
    senders = [p for p in cloud.pollers if p.mapping.function_id == "BroadcastSenderFunction"]
    if args.sender_concurrency:
        for poller in senders:
            poller.stop()
            poller.concurrency = args.sender_concurrency
            poller.start()
    invocations = Invocations(Changes())
    cloud.runtime.observers.append(invocations)
    runs = []       # (form post s, final s, [lateness s], statuses) per broadcast
    try:
        site = cloud.api_url("BroadcastApi")
        session = requests.Session()
        session.auth = (USER, PASSWORD)
        token = fanout_bench._form_token(session, site)
        numbers = "\n".join(unique_numbers(args.numbers))
        for run in range(args.runs):
            posted_at = datetime.now(timezone.utc).replace(tzinfo=None)
            started = time.perf_counter()
            resp = session.post(site + "/broadcasts", data={"text": f"End to end {run}", "csrf": token,
                                                            "numbers": numbers}, allow_redirects=False, timeout=120)
            posted = time.perf_counter() - started
            assert resp.status_code == 303, f"form post failed: {resp.status_code} {resp.text[:500]}"
            final, late, statuses = all_final(sql, int(resp.headers["Location"].rsplit("/", 1)[1]), posted_at)
            runs.append((posted, final, late, statuses))
            print(f"  run {run + 1}: form post {posted:.2f} s, all final {final:.2f} s after it, lateness p99 "
                  f"{percentile(late, 99):.2f} s, max {max(late):.2f} s, min {min(late):+.2f} s; {statuses}",
                  flush=True)
        busy = {fn: (s, sum(i["duration_ms"] for i in invocations.recent(fn, limit=10 ** 6)) / 1000)
                for fn, s in invocations.stats(60).items()}
    finally:
        cloud.stop()
        emulator.stop()
        moto.stop()
    print(f"\nbroadcast end to end: {args.numbers:,} numbers x {args.runs} runs, delays 5-50 s, ChatApp emulator "
          f"without latency; {senders[0].concurrency} sender poller threads "
          f"({'--sender-concurrency' if args.sender_concurrency else 'the template ScalingConfig'})")
    print(TARGETS.describe())
    print(f"  form post {spread([r[0] for r in runs])} s; every recipient final {spread([r[1] for r in runs])} s "
          "after the post (information: the longest drawn delay is 50 s)")
    flushed = {1: "every commit written and flushed to disk", 2: "every commit written, flushed once a second",
               0: "commits flushed once a second"}.get(int(durability["flush"]), "?")
    print(f"  durability (the server's settings, as found): innodb_flush_log_at_trx_commit={durability['flush']} "
          f"({flushed}), binary log {'on' if durability['log_bin'] else 'off'}, "
          f"sync_binlog={durability['sync_binlog']}")
    if "BroadcastSenderFunction" in busy:
        print(f"  sender busy per recipient: {busy['BroadcastSenderFunction'][1] * 1000 / args.numbers:.1f} ms "
              "(all its invocations' durations, fan-out jobs included, / numbers)")
    for fn, (s, seconds) in sorted(busy.items()):
        print(f"  {fn}: {s['invocations']} invocations, p50 {s['p50']:.0f} ms, p99 {s['p99']:.0f} ms, "
              f"{seconds:.0f} s busy in total, {s['errors']} errors")
    p99s, maxes = [percentile(r[2], 99) for r in runs], [max(r[2]) for r in runs]
    TARGETS.figure("late_p99_s", median(p99s), f"[runs {spread(p99s)} s; baseline: each message's own delay]")
    TARGETS.figure("late_max_s", median(maxes), f"[runs {spread(maxes)} s]")
    TARGETS.figure("early_s", min(min(r[2]) for r in runs))
    return TARGETS.exit_code()


if __name__ == "__main__":
    sys.exit(main())
