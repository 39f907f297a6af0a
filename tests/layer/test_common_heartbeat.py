"""common.heartbeat against a real (moto) queue: records stay hidden while the work lives, and show again
soon after the worker dies, however long the queue's own visibility timeout."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import boto3
import pytest

from common import batch, heartbeat
from waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
FAST = heartbeat.Policy(visibility=2, interval=0.5, first=0.2)


def make_queue(visibility):
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=f"beat-{uuid.uuid4().hex[:8]}",
                           Attributes={"VisibilityTimeout": str(visibility)})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return sqs, url, arn


@pytest.fixture
def queues(aws_endpoint):
    made = []

    def make(visibility):
        made.append(make_queue(visibility))
        return made[-1]
    yield make
    for sqs, url, _ in made:
        sqs.delete_queue(QueueUrl=url)


def receive_event(sqs, url, arn, count):
    messages = []
    deadline = time.monotonic() + 10
    while len(messages) < count and time.monotonic() < deadline:
        messages += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                        AttributeNames=["All"]).get("Messages", [])
    assert len(messages) == count
    return {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                         "attributes": m["Attributes"], "messageAttributes": {}, "eventSource": "aws:sqs",
                         "eventSourceARN": arn, "awsRegion": "us-east-1"} for m in messages]}


class Watcher:
    """Receives from the queue in the background meanwhile: what it gets was redelivered."""

    def __init__(self, sqs, url):
        self.sqs, self.url, self.got = sqs, url, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.got += self.sqs.receive_message(QueueUrl=self.url, WaitTimeSeconds=1).get("Messages", [])

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)


def test_a_long_handler_keeps_its_record_past_a_short_visibility(queues):
    # A 4 s visibility renewed every 0.5 s: a loaded machine may stall the beats for up to 3.5 s (with 2 s, a
    # stall of 1.5 s on a machine at load 11 let the record show again) and the work still outlasts it 2.5 times.
    sqs, url, arn = queues(4)
    sqs.send_message(QueueUrl=url, MessageBody="long")
    event = receive_event(sqs, url, arn, 1)
    with Watcher(sqs, url) as watcher:
        result = batch.process(event, lambda record: time.sleep(10),
                               heartbeat=heartbeat.Policy(visibility=4, interval=0.5, first=0.2))
    assert result == {"batchItemFailures": []}
    assert watcher.got == []  # 10 s of work on a 4 s visibility, never delivered twice


def test_a_killed_worker_s_record_shows_again_long_before_the_queue_s_timeout(queues):
    sqs, url, arn = queues(600)  # the backstop: without the heartbeat the record would hide for 10 minutes
    sqs.send_message(QueueUrl=url, MessageBody="work")
    event = receive_event(sqs, url, arn, 1)
    worker = subprocess.Popen(
        [sys.executable, "-c", (
            "import json, sys, time\n"
            "from common import batch, heartbeat\n"
            "event = json.loads(sys.stdin.readline())\n"
            "def work(record):\n"
            "    print('working', flush=True)\n"
            "    time.sleep(600)\n"
            "batch.process(event, work, heartbeat=heartbeat.Policy(visibility=2, interval=0.5, first=0.2))\n")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "layers/common/python")})
    try:
        worker.stdin.write(json.dumps(event) + "\n")
        worker.stdin.flush()
        assert worker.stdout.readline().strip() == "working"
        with Watcher(sqs, url) as watcher:
            time.sleep(4)  # past the 2 s visibility: only the beats keep it hidden
        assert watcher.got == []
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        # Shown again by the heartbeat's 2 s visibility: the queue's 600 s is far beyond this deadline.
        again = wait_until(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages"),
                           timeout=120, what="the dead worker's record visible again")
        assert again[0]["MessageId"] == event["Records"][0]["messageId"]
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)


def test_a_failed_record_comes_back_after_its_backoff_while_the_rest_of_the_batch_runs(queues):
    sqs, url, arn = queues(2)
    for name in ("fails", "slow"):
        sqs.send_message(QueueUrl=url, MessageBody=name)
    event = receive_event(sqs, url, arn, 2)
    event["Records"].sort(key=lambda r: r["body"])  # "fails" first
    seen = []

    def handler(record):
        if record["body"] == "fails":
            raise batch.Retry("busy", delay=1)
        # Its beats go on meanwhile: the failed record must still come back after its 1 s backoff.
        seen.extend(wait_until(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages"),
                               timeout=20, what="the failed record back"))

    result = batch.process(event, handler, heartbeat=FAST)
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == [event["Records"][0]["messageId"]]
    assert [m["Body"] for m in seen] == ["fails"]


def test_a_failing_beat_is_logged_and_the_next_one_keeps_the_record(queues, monkeypatch, caplog):
    sqs, url, arn = queues(2)
    sqs.send_message(QueueUrl=url, MessageBody="x")
    event = receive_event(sqs, url, arn, 1)
    real = heartbeat.sqs()
    calls = []

    class Flaky:
        def change_message_visibility_batch(self, **kwargs):
            calls.append(kwargs)
            if len(calls) == 2:
                raise ConnectionError("SQS unreachable for one beat")
            return real.change_message_visibility_batch(**kwargs)

        def get_queue_url(self, **kwargs):
            return real.get_queue_url(**kwargs)

    monkeypatch.setattr(heartbeat, "sqs", Flaky)
    with Watcher(sqs, url) as watcher:
        batch.process(event, lambda record: time.sleep(5), heartbeat=FAST)
    assert len(calls) >= 4
    assert watcher.got == []
    assert any(r.name == "common.heartbeat" and r.levelname == "WARNING" and "heartbeat failed" in r.getMessage()
               for r in caplog.records)


def test_never_asks_beyond_sqs_twelve_hours_from_the_receive():
    now = [1000.0]
    beat = heartbeat.Heartbeat([], heartbeat.Policy(visibility=60), clock=lambda: now[0])
    beat.start()
    assert beat.timeout() == 60
    limit = heartbeat.SQS_MAX_VISIBILITY - heartbeat.RECEIVE_SLACK
    now[0] += limit - 10
    assert beat.timeout() == 10
    now[0] += 20
    assert beat.timeout() == 0


def test_past_twelve_hours_the_heartbeat_stops_without_calling_sqs(monkeypatch):
    now = [0.0]
    record = {"receiptHandle": "r", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "messageId": "m"}
    beat = heartbeat.Heartbeat([record], heartbeat.Policy(visibility=60, first=3600), clock=lambda: now[0])
    monkeypatch.setattr(heartbeat, "sqs", lambda: pytest.fail("no SQS call past the 12 h"))
    beat.start()
    try:
        now[0] = heartbeat.SQS_MAX_VISIBILITY
        assert beat.beat() == 0
        assert beat.beat() == 0
    finally:
        beat.stop()


def test_the_queue_url_is_asked_once_per_queue(queues, monkeypatch):
    _, url, arn = queues(30)
    real = heartbeat.sqs()
    asked = []

    class Counting:
        def get_queue_url(self, **kwargs):
            asked.append(kwargs)
            return real.get_queue_url(**kwargs)

    monkeypatch.setattr(heartbeat, "sqs", Counting)
    assert heartbeat.queue_url(arn) == url
    assert heartbeat.queue_url(arn) == url
    assert len(asked) == 1


def test_the_first_beat_lands_before_the_work_starts(queues):
    sqs, url, arn = queues(600)
    sqs.send_message(QueueUrl=url, MessageBody="x")
    event = receive_event(sqs, url, arn, 1)
    beat = heartbeat.Heartbeat(event["Records"], heartbeat.Policy(visibility=2, interval=100))
    beat.start()
    beat.stop()   # the process "dies" at once: no beat of the thread ever came
    # Visible again after the first beat's 2 s, not after the queue's 600 s.
    again = wait_until(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages"),
                       timeout=60, what="the record visible again")
    assert again[0]["MessageId"] == event["Records"][0]["messageId"]


def test_a_record_sqs_no_longer_holds_is_dropped_after_one_refusal(queues, caplog):
    sqs, url, arn = queues(30)
    sqs.send_message(QueueUrl=url, MessageBody="x")
    event = receive_event(sqs, url, arn, 1)
    beat = heartbeat.Heartbeat(event["Records"], heartbeat.Policy(visibility=5, first=3600))
    beat.start()
    try:
        assert beat.beat() == 1
        sqs.delete_message(QueueUrl=url, ReceiptHandle=event["Records"][0]["receiptHandle"])  # done elsewhere
        assert beat.beat() == 0
        assert any("heartbeat refused" in r.getMessage() for r in caplog.records)
        caplog.clear()
        beat.beat()
        assert not any("heartbeat refused" in r.getMessage() for r in caplog.records)  # not asked again
    finally:
        beat.stop()
