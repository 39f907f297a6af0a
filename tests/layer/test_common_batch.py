"""common.batch against a real (moto) queue: failures are reported and come back after a short backoff."""
import json
import time
import uuid

import boto3
import pytest

from common import batch

LONG_VISIBILITY = 600  # the crash backstop: a failed record must come back long before this


@pytest.fixture
def queue(aws_endpoint):
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=f"batch-{uuid.uuid4().hex[:8]}",
                           Attributes={"VisibilityTimeout": str(LONG_VISIBILITY)})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    yield sqs, url, arn
    sqs.delete_queue(QueueUrl=url)


def receive_event(sqs, url, arn, count):
    """Receive `count` messages and shape them as Lambda's SQS event."""
    messages = []
    deadline = time.monotonic() + 10
    while len(messages) < count and time.monotonic() < deadline:
        messages += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                        AttributeNames=["All"]).get("Messages", [])
    assert len(messages) == count
    return {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                         "attributes": m["Attributes"], "messageAttributes": {}, "eventSource": "aws:sqs",
                         "eventSourceARN": arn, "awsRegion": "us-east-1"} for m in messages]}


def test_partial_failure_reports_only_the_failed_record_and_it_returns_quickly(queue):
    sqs, url, arn = queue
    for n in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": n}))
    event = receive_event(sqs, url, arn, 3)
    seen = []

    def handler(record):
        n = json.loads(record["body"])["n"]
        seen.append(n)
        if n == 1:
            raise RuntimeError("transient")

    result = batch.process(event, handler, backoff=batch.Backoff(rng=lambda: 0.0))
    failed = [r["messageId"] for r in event["Records"] if json.loads(r["body"])["n"] == 1]
    assert result == {"batchItemFailures": [{"itemIdentifier": failed[0]}]}
    assert sorted(seen) == [0, 1, 2]
    # The failed record is visible again after the 1 s floor, not after the queue's 600 s.
    again = receive_event(sqs, url, arn, 1)["Records"][0]
    assert again["messageId"] == failed[0]
    assert again["attributes"]["ApproximateReceiveCount"] == "2"


def test_every_record_failing_is_reported_not_raised(queue):
    sqs, url, arn = queue
    sqs.send_message(QueueUrl=url, MessageBody="x")
    event = receive_event(sqs, url, arn, 1)

    def handler(record):
        raise ValueError("broken")
    result = batch.process(event, handler, backoff=batch.Backoff(rng=lambda: 0.0))
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}


def test_retry_with_its_own_delay_keeps_the_record_away_until_then(queue):
    sqs, url, arn = queue
    sqs.send_message(QueueUrl=url, MessageBody="busy")
    event = receive_event(sqs, url, arn, 1)

    def handler(record):
        raise batch.Retry("job busy", delay=4)
    assert len(batch.process(event, handler)["batchItemFailures"]) == 1
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages") is None
    assert receive_event(sqs, url, arn, 1)["Records"][0]["body"] == "busy"


def test_backoff_grows_with_attempts_and_stays_within_bounds():
    top = batch.Backoff(base=2, cap=60, rng=lambda: 0.999999)
    assert [top(a) for a in (1, 2, 3, 4, 10)] == [1, 3, 7, 15, 59]
    assert batch.Backoff(rng=lambda: 0.0)(1) == 1  # never an immediate redelivery
    lowest = batch.Backoff(rng=lambda: 0.0)
    assert sum(lowest(a) for a in range(1, 5)) == 15  # four failed receives take at least 15 s: outlast an outage
    import random
    rng = random.Random(7)
    draws = [batch.Backoff(base=2, cap=300, rng=rng.random)(5) for _ in range(200)]
    assert min(draws) >= 16 and max(draws) <= 32 and len(set(draws)) > 10  # jittered, not one fixed value


def test_attempt_of_reads_the_receive_count():
    assert batch.attempt_of({"attributes": {"ApproximateReceiveCount": "3"}}) == 3
    assert batch.attempt_of({}) == 1


def test_a_failing_change_message_visibility_is_a_warning_and_the_record_is_still_reported(queue, caplog):
    """SQS refusing the shorter visibility must not lose the record: it is still in batchItemFailures (Lambda
    leaves it on the queue, back after the queue's own timeout) and the refusal is logged as a warning."""
    sqs, url, arn = queue
    for n in range(2):
        sqs.send_message(QueueUrl=url, MessageBody=str(n))
    event = receive_event(sqs, url, arn, 2)
    broken = next(r for r in event["Records"] if r["body"] == "1")
    broken["receiptHandle"] = "not-a-receipt-handle"          # SQS answers ReceiptHandleIsInvalid

    def handler(record):
        if record["body"] == "1":
            raise RuntimeError("transient")
    caplog.set_level("WARNING", logger="common.batch")
    result = batch.process(event, handler, backoff=batch.Backoff(rng=lambda: 0.0))
    assert result == {"batchItemFailures": [{"itemIdentifier": broken["messageId"]}]}
    warnings = [r for r in caplog.records if r.name == "common.batch" and r.levelname == "WARNING"]
    assert len(warnings) == 1 and broken["messageId"] in warnings[0].getMessage()
    assert "ReceiptHandleIsInvalid" in caplog.text


class Spy:
    """The SQS client common.batch uses, recording each VisibilityTimeout it asks for."""

    def __init__(self):
        self.real, self.asked = batch.aws.client("sqs"), []

    def __getattr__(self, name):
        return getattr(self.real, name)

    def change_message_visibility(self, **kwargs):
        self.asked.append(kwargs["VisibilityTimeout"])
        return self.real.change_message_visibility(**kwargs)


def test_a_long_delay_is_capped_at_what_is_left_of_12_hours_since_the_receive(queue, monkeypatch, caplog):
    """SQS refuses a visibility that would keep a message hidden past 12 h after its receive (moto: after its
    sending), so 43,200 s itself is refused once any time has passed: the delay asked is what is left of the 12 h
    (less CLOCK_SKEW), SQS takes it, and the record stays away."""
    sqs, url, arn = queue
    sqs.send_message(QueueUrl=url, MessageBody="later")
    event = receive_event(sqs, url, arn, 1)
    spy = Spy()
    monkeypatch.setattr(batch.aws, "client", lambda service: spy)
    caplog.set_level("WARNING", logger="common.batch")

    def handler(record):
        raise batch.Retry("come back tomorrow", delay=10 ** 6)
    assert len(batch.process(event, handler)["batchItemFailures"]) == 1
    assert not [r for r in caplog.records if r.name == "common.batch"], caplog.text  # SQS took the delay asked
    (asked,) = spy.asked
    assert batch.SQS_MAX_VISIBILITY - batch.CLOCK_SKEW - 60 < asked <= batch.SQS_MAX_VISIBILITY - batch.CLOCK_SKEW
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages") is None


def test_a_record_whose_12_hours_are_spent_is_left_to_its_current_visibility(queue, monkeypatch, caplog):
    """SQS would refuse any delay 12 h after the receive: none is asked, a warning says why, the record is reported."""
    sqs, url, arn = queue
    sqs.send_message(QueueUrl=url, MessageBody="spent")
    event = receive_event(sqs, url, arn, 1)
    event["Records"][0]["attributes"]["ApproximateFirstReceiveTimestamp"] = str(int((time.time() - 12 * 3600) * 1000))
    spy = Spy()
    monkeypatch.setattr(batch.aws, "client", lambda service: spy)
    caplog.set_level("WARNING", logger="common.batch")

    def handler(record):
        raise RuntimeError("transient")
    with batch.heartbeats.Heartbeat(event["Records"]) as beating:
        beating.created -= 12 * 3600      # the caller's work on the batch took 12 h before process()
        assert len(batch.process(event, handler, heartbeat=beating)["batchItemFailures"]) == 1
    assert spy.asked == []
    assert "12 h of visibility are spent" in caplog.text


def test_visibility_cap_counts_from_the_latest_bound_on_the_receive():
    now = 1_000_000.0
    top = batch.SQS_MAX_VISIBILITY - batch.CLOCK_SKEW
    first_delivery = {"attributes": {"ApproximateFirstReceiveTimestamp": str(int((now - 100) * 1000))}}
    assert batch.visibility_cap(first_delivery, started=now, now=now) == top - 100
    # A redelivery's first receive may be days old: this receive came at most RECEIVE_SLACK before the batch began.
    redelivery = {"attributes": {"ApproximateFirstReceiveTimestamp": str(int((now - 3 * 86400) * 1000)),
                                 "ApproximateReceiveCount": "4"}}
    slack = batch.heartbeats.RECEIVE_SLACK
    assert batch.visibility_cap(redelivery, started=now - 7200, now=now) == top - 7200 - slack
    assert batch.visibility_cap({}, started=now, now=now) == top - slack
    assert batch.visibility_cap({}, started=now - 13 * 3600, now=now) == 0


def test_a_batch_worked_on_before_process_counts_from_its_heartbeat(queue, monkeypatch):
    """A handler that starts a Heartbeat before common.batch.process (broadcast's) began the batch then."""
    sqs, url, arn = queue
    sqs.send_message(QueueUrl=url, MessageBody="held")
    event = receive_event(sqs, url, arn, 1)
    del event["Records"][0]["attributes"]["ApproximateFirstReceiveTimestamp"]
    spy = Spy()
    monkeypatch.setattr(batch.aws, "client", lambda service: spy)
    with batch.heartbeats.Heartbeat(event["Records"]) as beating:
        beating.created -= 5 * 3600       # the caller's work on the batch took 5 h before process()

        def handler(record):
            raise batch.Retry("come back tomorrow", delay=10 ** 6)
        batch.process(event, handler, heartbeat=beating)
    (asked,) = spy.asked
    assert asked <= batch.SQS_MAX_VISIBILITY - batch.CLOCK_SKEW - 5 * 3600 - batch.heartbeats.RECEIVE_SLACK
