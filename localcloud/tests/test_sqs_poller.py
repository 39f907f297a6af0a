"""SqsPoller against a real moto server: event shape, delete/redrive semantics, batching, delays."""
import hashlib
import json
import logging
import socket
import threading
import time
import uuid

import boto3
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

from localcloud.model import InvocationError, SqsMapping
from localcloud.sqs_poller import SqsPoller
from recorder import Recorder

REGION = "us-east-1"


def _client(endpoint, **config):
    return boto3.client("sqs", region_name=REGION, endpoint_url=endpoint, aws_access_key_id="testing",
                        aws_secret_access_key="testing", config=Config(**config))


@pytest.fixture(scope="module")
def sqs():
    werkzeug_log = logging.getLogger("werkzeug")
    level = werkzeug_log.level
    werkzeug_log.setLevel(logging.WARNING)     # one line per request drowns the poller's own log
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield _client(f"http://{host}:{port}")
    server.stop()
    werkzeug_log.setLevel(level)


def make_queue(sqs, **attributes):
    name = f"q-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name, Attributes={k: str(v) for k, v in attributes.items()})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def send(sqs, url, bodies):
    """SendMessageBatch each body (up to 10 per call); the entry Id is the body's position."""
    bodies = list(bodies)
    for start in range(0, len(bodies), 10):
        entries = [{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies[start:start + 10])]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)


def counts(sqs, url):
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"])


@pytest.fixture
def run_poller(sqs):
    """Start a poller on a queue; every poller is stopped at teardown."""
    pollers = []

    def run(url, arn, invoke, **kwargs):
        mapping_keys = ("batch_size", "batching_window", "report_batch_item_failures", "enabled")
        mapping = SqsMapping(function_id="Fn", queue_logical_id="Jobs", queue_url=url, queue_arn=arn,
                             **{k: kwargs.pop(k) for k in mapping_keys if k in kwargs})
        poller = SqsPoller(mapping, invoke, kwargs.pop("client", sqs), region=REGION, **kwargs)
        pollers.append(poller)
        poller.start()
        return poller

    yield run
    for poller in pollers:
        poller.stop()


@pytest.mark.timeout(20)
def test_event_shape_and_success_deletes(sqs, run_poller):
    url, arn = make_queue(sqs, VisibilityTimeout=30)
    sqs.send_message(QueueUrl=url, MessageBody='{"hello": 1}', MessageAttributes={
        "kind": {"DataType": "String", "StringValue": "greeting"},
        "n": {"DataType": "Number", "StringValue": "42"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01hi"},
    })
    rec = Recorder()
    poller = run_poller(url, arn, rec)
    rec.wait_for(lambda r: len(r.calls) == 1)
    _, function_id, event, trigger = rec.calls[0]
    assert (function_id, trigger) == ("Fn", "sqs:Jobs")
    assert list(event) == ["Records"] and len(event["Records"]) == 1
    record = event["Records"][0]
    assert set(record) == {"messageId", "receiptHandle", "body", "attributes", "messageAttributes",
                           "md5OfBody", "eventSource", "eventSourceARN", "awsRegion"}
    assert record["body"] == '{"hello": 1}'
    assert record["md5OfBody"] == hashlib.md5(b'{"hello": 1}').hexdigest()
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == ("aws:sqs", arn, REGION)
    attrs = record["attributes"]
    assert set(attrs) >= {"ApproximateReceiveCount", "SentTimestamp", "SenderId",
                          "ApproximateFirstReceiveTimestamp"}
    assert attrs["ApproximateReceiveCount"] == "1" and attrs["SentTimestamp"].isdigit()
    no_lists = {"stringListValues": [], "binaryListValues": []}
    assert record["messageAttributes"] == {
        "kind": {"stringValue": "greeting", **no_lists, "dataType": "String"},
        "n": {"stringValue": "42", **no_lists, "dataType": "Number"},
        "blob": {"binaryValue": "AAFoaQ==", **no_lists, "dataType": "Binary"},
    }
    json.dumps(event)   # what a real runtime receives must be JSON-serialisable
    _wait(lambda: poller.stats["deleted"] == 1)
    assert counts(sqs, url) == (0, 0)
    assert poller.stats["received"] == 1 and poller.stats["failed_batches"] == 0


def _fail(event):
    raise InvocationError("boom", "RuntimeError", "Traceback ...")


@pytest.mark.timeout(20)
def test_error_redelivers_after_visibility_timeout_then_dlq(sqs, run_poller, caplog):
    dlq_url, dlq_arn = make_queue(sqs)
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    url, arn = make_queue(sqs, VisibilityTimeout=1, RedrivePolicy=redrive)
    sqs.send_message(QueueUrl=url, MessageBody="poison")
    rec = Recorder(_fail)
    with caplog.at_level(logging.WARNING):
        poller = run_poller(url, arn, rec)
        rec.wait_for(lambda r: len(r.calls) == 2)
    first, second = rec.calls[0][0], rec.calls[1][0]
    assert second - first >= 0.9, "redelivered before the visibility timeout"
    assert [r["attributes"]["ApproximateReceiveCount"] for r in rec.records()] == ["1", "2"]
    assert "batch failed" in caplog.text and "RuntimeError: boom" in caplog.text
    _wait(lambda: counts(sqs, dlq_url)[0] == 1, timeout=8)
    dead = sqs.receive_message(QueueUrl=dlq_url)["Messages"]
    assert [m["Body"] for m in dead] == ["poison"]
    assert counts(sqs, url) == (0, 0) and len(rec.calls) == 2
    assert poller.stats["failed_batches"] == 2 and poller.stats["deleted"] == 0


@pytest.mark.timeout(60)
@pytest.mark.parametrize("death", ["Runtime.ExitError", "Sandbox.Timedout"])
def test_a_dead_worker_s_batch_is_visible_again_at_once(sqs, run_poller, death):
    # 600 s: only the poller's release can bring the batch back within the test.
    url, arn = make_queue(sqs, VisibilityTimeout=600)
    send(sqs, url, ["a", "b"])

    def die_once(event):
        if len(rec.calls) == 1:
            raise InvocationError("Runtime exited with error: exit status -9", death)
    rec = Recorder(die_once)
    poller = run_poller(url, arn, rec, batch_size=2, batching_window=1)
    rec.wait_for(lambda r: sum(len(e["Records"]) for e in r.events()) >= 4, timeout=30)
    assert sorted(rec.bodies()) == ["a", "a", "b", "b"]
    assert poller.stats["released"] == 2
    _wait(lambda: counts(sqs, url) == (0, 0))


@pytest.mark.timeout(20)
def test_a_handler_error_is_not_released_early(sqs, run_poller):
    url, arn = make_queue(sqs, VisibilityTimeout=3)
    sqs.send_message(QueueUrl=url, MessageBody="poison")
    rec = Recorder(_fail)
    poller = run_poller(url, arn, rec)
    rec.wait_for(2, timeout=15)
    assert rec.calls[1][0] - rec.calls[0][0] >= 2.9, "a failed (not dead) batch waits for its visibility timeout"
    assert poller.stats["released"] == 0


@pytest.mark.timeout(20)
def test_partial_batch_failure_redelivers_only_failed_record(sqs, run_poller):
    url, arn = make_queue(sqs, VisibilityTimeout=1)
    send(sqs, url, ("a", "bad", "c"))
    attempts = []

    def behaviour(event):
        bad = [r["messageId"] for r in event["Records"] if r["body"] == "bad"]
        attempts.append(len(bad))
        first_time = len([n for n in attempts if n]) == 1
        return {"batchItemFailures": [{"itemIdentifier": i} for i in bad]} if bad and first_time else None

    rec = Recorder(behaviour)
    poller = run_poller(url, arn, rec, report_batch_item_failures=True)
    rec.wait_for(lambda r: sorted(r.bodies()) == ["a", "bad", "bad", "c"])
    assert rec.calls[0][2]["Records"] and len(rec.calls) == 2
    redelivered = rec.calls[-1][2]["Records"]
    assert [(r["body"], r["attributes"]["ApproximateReceiveCount"]) for r in redelivered] == [("bad", "2")]
    _wait(lambda: poller.stats["deleted"] == 3)
    assert counts(sqs, url) == (0, 0)
    assert poller.stats["partial_failures"] == 1 and poller.stats["failed_batches"] == 0


@pytest.mark.timeout(20)
def test_unknown_item_identifier_fails_whole_batch(sqs, run_poller):
    url, arn = make_queue(sqs, VisibilityTimeout=1)
    send(sqs, url, ("x", "y"))

    def behaviour(event):
        once = len(rec.calls) == 1
        failures = [{"itemIdentifier": "not-in-batch"}] if once else []
        return {"batchItemFailures": failures}

    rec = Recorder(behaviour)
    poller = run_poller(url, arn, rec, report_batch_item_failures=True)
    rec.wait_for(lambda r: sorted(r.bodies()) == ["x", "x", "y", "y"])
    _wait(lambda: poller.stats["deleted"] == 2)
    assert poller.stats["failed_batches"] == 1 and counts(sqs, url) == (0, 0)


@pytest.mark.parametrize("response, expected", [
    (None, set()),
    ({}, set()),
    ({"batchItemFailures": []}, set()),
    ({"batchItemFailures": None}, set()),
    ({"batchItemFailures": [{"itemIdentifier": "m1"}]}, {"m1"}),
    ({"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]}, {"m1", "m2"}),
    ({"batchItemFailures": [{"itemIdentifier": "zz"}]}, None),
    ({"batchItemFailures": [{"itemIdentifier": ""}]}, None),
    ({"batchItemFailures": [{"itemIdentifier": None}]}, None),
    ({"batchItemFailures": [{"id": "m1"}]}, None),
    ({"batchItemFailures": "m1"}, None),
    ("ok", None),
    ([], None),
])
def test_batch_item_failure_response_parsing(response, expected):
    assert SqsPoller._failed_ids(response, {"m1", "m2"}) == expected


@pytest.mark.timeout(20)
def test_without_report_batch_item_failures_a_response_is_ignored(sqs, run_poller):
    url, arn = make_queue(sqs)
    sqs.send_message(QueueUrl=url, MessageBody="m")
    poller = run_poller(url, arn, Recorder(lambda e: {"batchItemFailures": [{"itemIdentifier": "zz"}]}))
    _wait(lambda: poller.stats["deleted"] == 1)
    assert counts(sqs, url) == (0, 0)


@pytest.mark.timeout(20)
def test_batch_size_is_respected(sqs, run_poller):
    url, arn = make_queue(sqs)
    send(sqs, url, map(str, range(7)))
    rec = Recorder()
    poller = run_poller(url, arn, rec, batch_size=3)
    rec.wait_for(lambda r: len(r.bodies()) == 7)
    assert sorted(rec.bodies(), key=int) == [str(i) for i in range(7)]
    assert max(len(event["Records"]) for _, _, event, _ in rec.calls) == 3
    _wait(lambda: poller.stats["deleted"] == 7)


@pytest.mark.timeout(20)
def test_batching_window_gathers_beyond_one_receive(sqs, run_poller):
    url, arn = make_queue(sqs)
    rec = Recorder()
    run_poller(url, arn, rec, batch_size=25, batching_window=2)
    send(sqs, url, map(str, range(10)))
    time.sleep(0.5)
    send(sqs, url, map(str, range(10, 15)))
    rec.wait_for(lambda r: len(r.bodies()) == 15)
    assert len(rec.calls) == 1, [len(e["Records"]) for _, _, e, _ in rec.calls]


@pytest.mark.timeout(20)
def test_batching_window_ends_when_batch_is_full(sqs, run_poller):
    url, arn = make_queue(sqs)
    send(sqs, url, map(str, range(10)))
    rec = Recorder()
    # A window of 5 minutes, far beyond the test's own timeout: the call can only come from a full batch.
    run_poller(url, arn, rec, batch_size=10, batching_window=300)
    rec.wait_for(lambda r: len(r.calls) == 1)
    assert len(rec.records()) == 10


@pytest.mark.timeout(20)
def test_delay_seconds_is_honoured(sqs, run_poller):
    url, arn = make_queue(sqs)
    rec = Recorder()
    run_poller(url, arn, rec)
    sent = time.monotonic()
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=2)
    rec.wait_for(lambda r: len(r.calls) == 1, timeout=15)
    # A lower bound only: never before its delay (how soon after is bench/local_cloud_bench.py's question).
    assert rec.calls[0][0] - sent >= 2.0, rec.calls[0][0] - sent


@pytest.mark.timeout(20)
def test_stop_is_prompt_and_disabled_mapping_never_polls(sqs, run_poller):
    url, arn = make_queue(sqs)
    poller = run_poller(url, arn, Recorder(), wait_seconds=1, concurrency=3)
    assert poller.running
    poller.stop(timeout=15)     # returns once every thread has ended, or after 15 s with some still alive
    assert not poller.running
    sqs.send_message(QueueUrl=url, MessageBody="m")
    rec = Recorder()
    disabled = run_poller(url, arn, rec, enabled=False)
    # Never polls: no polling thread was started at all (nothing to wait for to prove it).
    assert disabled._threads == [] and not disabled.running
    assert rec.calls == [] and counts(sqs, url) == (1, 0)


@pytest.mark.timeout(20)
def test_concurrency_runs_batches_in_parallel(sqs, run_poller):
    url, arn = make_queue(sqs, VisibilityTimeout=30)
    send(sqs, url, map(str, range(3)))
    # Each batch waits until all three are in their handlers at once: one after another, the barrier breaks
    # (after its 10 s) and the batches fail instead of being deleted.
    together = threading.Barrier(3, timeout=10)
    rec = Recorder(lambda event: together.wait())
    poller = run_poller(url, arn, rec, batch_size=1, concurrency=3)
    _wait(lambda: poller.stats["deleted"] == 3, timeout=15)
    assert len(rec.calls) == 3 and poller.stats["failed_batches"] == 0 and not together.broken


@pytest.mark.timeout(20)
def test_endpoint_down_is_logged_and_retried(caplog):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    client = _client(f"http://127.0.0.1:{dead_port}", retries={"max_attempts": 1}, connect_timeout=0.5)
    mapping = SqsMapping("Fn", "Jobs", f"http://127.0.0.1:{dead_port}/123456789012/q", "arn:aws:sqs:x")
    poller = SqsPoller(mapping, Recorder(), client)
    with caplog.at_level(logging.WARNING):
        poller.start()
        _wait(lambda: caplog.text.count("retry in") >= 2, timeout=5)
        assert poller.running
        poller.stop()
    assert not poller.running and "EndpointConnectionError" in caplog.text


@pytest.mark.timeout(60)
def test_a_backlog_is_drained_completely_in_batches(sqs, run_poller):
    # How fast is bench/local_cloud_bench.py's question; here: all of it, each message once, in batches.
    url, arn = make_queue(sqs)
    total = 100
    send(sqs, url, [str(n) for n in range(total)])
    rec = Recorder()
    poller = run_poller(url, arn, rec, batch_size=10)
    _wait(lambda: poller.stats["deleted"] == total, timeout=50, interval=0.05)
    assert sorted(rec.bodies(), key=int) == [str(n) for n in range(total)]
    assert max(len(event["Records"]) for event in rec.events()) > 1


def _wait(predicate, timeout=10.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(interval)
