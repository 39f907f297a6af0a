"""Throughput of the local cloud itself, on tests/foundation/template.yaml.

Prints: HTTP requests/s through the gateway + worker runtime against the same handler called in
this process (baseline); SQS messages/s through poller + runtime against receive+delete with no
function at all (baseline). Ratios are measured in the same run.
"""
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from local.cloud import Cloud, start_moto  # noqa: E402

TEMPLATE = ROOT / "tests" / "foundation" / "template.yaml"


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


def sqs_rate(cloud, records, n):
    """Messages/s from SendMessageBatch to the handler having recorded all of them."""
    sqs = boto3.client("sqs")
    url = cloud.physical_id("WorkQueue")
    folder = Path(records) / "sqs"
    before = len(list(folder.glob("*.json"))) if folder.exists() else 0
    started = time.perf_counter()
    for i in range(0, n, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(j), "MessageBody": f"m{i + j}"} for j in range(10)])
    while len(list(folder.glob("*.json"))) - before < n:
        time.sleep(0.05)
    return n / (time.perf_counter() - started)


def raw_sqs_rate(n):
    """Messages/s for send batch + receive + delete batch with no function: moto's own floor."""
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=f"bench-raw-{int(time.time())}")["QueueUrl"]
    started = time.perf_counter()
    for i in range(0, n, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(j), "MessageBody": f"m{i + j}"} for j in range(10)])
    done = 0
    while done < n:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if msgs:
            sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(k), "ReceiptHandle": m["ReceiptHandle"]}
                                                            for k, m in enumerate(msgs)])
        done += len(msgs)
    return n / (time.perf_counter() - started)


def main():
    server, endpoint = start_moto()
    os.environ.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                      AWS_DEFAULT_REGION="us-east-1")
    records = tempfile.mkdtemp()
    cloud = Cloud(str(TEMPLATE), aws_endpoint=endpoint, env={"RECORD_DIR": records},
                  functions=["EchoFunction", "SqsFunction"]).start()
    try:
        url = cloud.api_url("Api") + "/echo/bench"
        rate1, lat1 = http_rate(url, 500, 1)
        rate4, lat4 = http_rate(url, 1000, 4)
        direct = direct_rate(5000)
        print(f"HTTP via gateway+runtime, 1 client : {rate1:8.0f} req/s  p50 {statistics.median(lat1):.2f} ms  "
              f"p99 {sorted(lat1)[int(len(lat1) * .99)]:.2f} ms")
        print(f"HTTP via gateway+runtime, 4 clients: {rate4:8.0f} req/s  p50 {statistics.median(lat4):.2f} ms  "
              f"p99 {sorted(lat4)[int(len(lat4) * .99)]:.2f} ms")
        print(f"same handler called in-process     : {direct:8.0f} calls/s (baseline; gateway overhead "
              f"{1000 / rate1 - 1000 / direct:.2f} ms/request)")
        for n in (100, 300):
            through = sqs_rate(cloud, records, n)
            raw = raw_sqs_rate(n)
            print(f"SQS {n} msgs via poller+runtime    : {through:8.0f} msg/s; raw send+receive+delete "
                  f"{raw:.0f} msg/s; ratio {through / raw:.2f}x")
    finally:
        cloud.stop()
        server.stop()


if __name__ == "__main__":
    main()
