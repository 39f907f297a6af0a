"""Throughput of the local cloud itself, on localcloud/tests/template.yaml.

Prints: HTTP requests/s through the gateway + worker runtime against the same handler called in
this process (baseline); SQS messages/s through poller + runtime + function with 0, 1,000 and 10,000
messages waiting, against a bare receive+delete loop with no function on the same moto (baseline).
Ratios are measured in the same run; completion is counted through the runtime's observer hook.
Targets (TARGETS below), medians of alternating repeats after a warm-up: with the largest backlog waiting,
poller + runtime (1 thread) >= 0.8x the bare loop (1 thread), and >= 0.8x its own rate with nothing waiting
(a long queue is as fast as an empty one). Absolute rates are printed, not gated.

Usage: .venv/bin/python bench/local_cloud_bench.py [--measured 2000] [--backlogs 0,1000,10000] [--repeats 3]
Small: --measured 200 --backlogs 0,500. BENCH_TARGETS=backlog_vs_bare=100 makes it fail (bench/_gate.py).
"""
import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from localcloud.cloud import Cloud, start_moto  # noqa: E402
from _gate import Target, Targets, median, spread  # noqa: E402

TARGETS = Targets(
    Target("backlog_vs_bare", "SQS msg/s, largest backlog: poller + runtime + function / bare loop", ">=", 0.8, "x"),
    Target("backlog_vs_empty", "SQS msg/s through the runtime: largest backlog / nothing waiting", ">=", 0.8, "x"),
)

TEMPLATE = ROOT / "localcloud" / "tests" / "template.yaml"


def http_rate(url, n, threads):
    """Requests per second and per-request latencies (ms) for n GETs over `threads` connections."""
    local = threading.local()

    def one(_):
        session = getattr(local, "s", None) or requests.Session()
        local.s = session
        t = time.perf_counter()
        assert session.get(url).status_code == 201
        return (time.perf_counter() - t) * 1000
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(threads * 2)))  # warm the workers
        started = time.perf_counter()
        latencies = list(pool.map(one, range(n)))
    return n / (time.perf_counter() - started), latencies


def direct_rate(n):
    """The same handler, called in-process: the cost floor of the handler itself."""
    sys.path.insert(0, str(TEMPLATE.parent / "app"))
    import handlers

    class Ctx:
        function_name = "EchoFunction"

        def get_remaining_time_in_millis(self):
            return 5000
    event = {"path": "/echo/x", "resource": "/echo/{name}", "httpMethod": "GET", "pathParameters": {"name": "x"},
             "multiValueQueryStringParameters": None, "body": None, "isBase64Encoded": False}
    started = time.perf_counter()
    for _ in range(n):
        handlers.http_echo(event, Ctx())
    return n / (time.perf_counter() - started)


class Finished:
    """Counts the SQS records SqsFunction finished, told by the runtime's observer hook (no polling)."""

    def __init__(self, runtime, function_id):
        self.function_id = function_id
        self.count = 0
        self.changed = threading.Condition()
        runtime.observers.append(self)

    def __call__(self, record):
        if record["function"] == self.function_id and not record["error_type"]:
            with self.changed:
                self.count += len(record["event"]["Records"])
                self.changed.notify_all()

    def wait_for(self, total, timeout):
        with self.changed:
            if not self.changed.wait_for(lambda: self.count >= total, timeout):
                raise RuntimeError(f"only {self.count} of {total} records processed in {timeout} s")


def fill(sqs, url, n):
    """n messages waiting in the queue (SendMessageBatch from 4 threads, so filling stays quick)."""
    def batch(i):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(j), "MessageBody": f"m{i + j}"}
                                                      for j in range(min(10, n - i))])
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(batch, range(0, n, 10)))


def through_runtime(cloud, poller, finished, waiting, n, threads=1):
    """Messages/s SqsFunction gets through the poller + runtime while `waiting` more wait behind them,
    with `threads` polling threads (Lambda itself runs at least 5 concurrent batches per queue)."""
    poller.concurrency = threads
    sqs = cloud.clients["sqs"]
    url = cloud.physical_id("WorkQueue")
    fill(sqs, url, waiting + n)
    target = finished.count + n
    started = time.perf_counter()
    poller.start()
    finished.wait_for(target, 600)
    rate = n / (time.perf_counter() - started)
    finished.wait_for(target + waiting, 600)     # the rest drains unmeasured (PurgeQueue: once a minute)
    poller.stop()
    return rate


def bare_loop(sqs, waiting, n):
    """Messages/s of receive(10) + delete_message_batch in one thread, no function, same endpoint."""
    url = sqs.create_queue(QueueName=f"bench-bare-{uuid.uuid4().hex[:8]}",
                           Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    fill(sqs, url, waiting + n)
    started = time.perf_counter()
    done = 0
    while done < n:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                   MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"]
                                   ).get("Messages", [])
        if msgs:
            sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(k), "ReceiptHandle": m["ReceiptHandle"]}
                                                            for k, m in enumerate(msgs)])
        done += len(msgs)
    rate = n / (time.perf_counter() - started)
    sqs.delete_queue(QueueUrl=url)
    return rate


def sqs_backlog(cloud, measured=2000, repeats=3, backlogs=(0, 1000, 10000)):
    """Print both rates per backlog, medians of alternating repeats, and their ratio."""
    poller = next(p for p in cloud.pollers if p.mapping.queue_logical_id == "WorkQueue")
    poller.stop()
    finished = Finished(cloud.runtime, "SqsFunction")
    sqs = cloud.clients["sqs"]
    through_runtime(cloud, poller, finished, 0, 200)        # warm the worker
    print(f"SQS, {measured} messages taken off a queue with N more waiting behind them; "
          f"median of {repeats} alternating runs:")
    one_thread = {}
    for waiting in backlogs:
        runs = {1: [], 2: [], "bare": []}
        for repeat in range(repeats):
            sides = [1, 2, "bare"][repeat % 3:] + [1, 2, "bare"][:repeat % 3]
            for side in sides:
                runs[side].append(bare_loop(sqs, waiting, measured) if side == "bare"
                                  else through_runtime(cloud, poller, finished, waiting, measured, side))
        bare = statistics.median(runs["bare"])
        print(f"  N={waiting:,} waiting: bare receive(10)+delete_batch loop, 1 thread, no function, same moto: "
              f"{bare:.0f} msg/s (runs {_runs(runs['bare'])})")
        for threads in (1, 2):
            ours = statistics.median(runs[threads])
            print(f"      poller ({threads} thread{'s' if threads > 1 else ''}) + runtime + SqsFunction "
                  f"(batches of 10): {ours:.0f} msg/s = {ours / bare:.2f}x the bare loop (runs {_runs(runs[threads])})")
        one_thread[waiting] = (runs[1], runs["bare"])
    poller.concurrency = 1
    poller.start()
    largest, smallest = max(backlogs), min(backlogs)
    TARGETS.ratio("backlog_vs_bare", *one_thread[largest], labels=(f"runtime N={largest:,}", "bare"), unit="msg/s",
                  fmt="{:.0f}")
    TARGETS.ratio("backlog_vs_empty", one_thread[largest][0], one_thread[smallest][0],
                  labels=(f"runtime N={largest:,}", f"runtime N={smallest:,}"), unit="msg/s", fmt="{:.0f}")
    print(f"information: {median(one_thread[largest][0]):.0f} msg/s through the runtime with {largest:,} waiting "
          f"(runs {spread(one_thread[largest][0], '{:.0f}')})")


def _runs(values):
    return ", ".join(f"{x:.0f}" for x in values)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measured", type=int, default=2000, help="messages timed per SQS run")
    parser.add_argument("--backlogs", default="0,1000,10000", help="messages waiting behind them")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--requests", type=int, default=1000, help="HTTP requests with 4 clients (half with 1)")
    args = parser.parse_args(argv)
    print(TARGETS.describe())
    server, endpoint = start_moto()
    os.environ.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                      AWS_DEFAULT_REGION="us-east-1")
    records = tempfile.mkdtemp()
    cloud = Cloud(str(TEMPLATE), aws_endpoint=endpoint, env={"RECORD_DIR": records},
                  functions=["EchoFunction", "SqsFunction"]).start()
    try:
        url = cloud.api_url("Api") + "/echo/bench"
        rate1, lat1 = http_rate(url, args.requests // 2, 1)
        rate4, lat4 = http_rate(url, args.requests, 4)
        direct = direct_rate(5000)
        print(f"HTTP via gateway+runtime, 1 client : {rate1:8.0f} req/s  p50 {statistics.median(lat1):.2f} ms  "
              f"p99 {sorted(lat1)[int(len(lat1) * .99)]:.2f} ms")
        print(f"HTTP via gateway+runtime, 4 clients: {rate4:8.0f} req/s  p50 {statistics.median(lat4):.2f} ms  "
              f"p99 {sorted(lat4)[int(len(lat4) * .99)]:.2f} ms")
        print(f"same handler called in-process     : {direct:8.0f} calls/s (baseline; gateway overhead "
              f"{1000 / rate1 - 1000 / direct:.2f} ms/request)")
        sqs_backlog(cloud, args.measured, args.repeats, tuple(int(b) for b in args.backlogs.split(",")))
    finally:
        cloud.stop()
        server.stop()
    return TARGETS.exit_code()


if __name__ == "__main__":
    sys.exit(main())
