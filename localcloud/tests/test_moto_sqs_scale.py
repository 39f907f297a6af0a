"""The indexed SQS receive path (localcloud/moto_patches.py) keeps SQS semantics with thousands of messages
waiting: delays, visibility, receive counts, redrive to the DLQ, purge, long polling, counts."""
import json
import time
import uuid

import boto3
import pytest

from localcloud.cloud import start_moto

BACKLOG = 2000
DELAY = 4


@pytest.fixture(scope="module")
def sqs():
    server, url = start_moto()
    yield boto3.client("sqs", region_name="us-east-1", endpoint_url=url, aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    server.stop()


def make_queue(sqs, **attributes):
    url = sqs.create_queue(QueueName=f"scale-{uuid.uuid4().hex[:8]}",
                           Attributes={k: str(v) for k, v in attributes.items()})["QueueUrl"]
    return url


def arn(sqs, url):
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def send(sqs, url, bodies, delay=None):
    bodies = list(bodies)
    for start in range(0, len(bodies), 10):
        entries = [{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies[start:start + 10])]
        if delay is not None:
            for entry in entries:
                entry["DelaySeconds"] = delay
        sqs.send_message_batch(QueueUrl=url, Entries=entries)


def receive(sqs, url, n=10, wait=0, visibility=None):
    kwargs = {"VisibilityTimeout": visibility} if visibility is not None else {}
    return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=n, WaitTimeSeconds=wait,
                               MessageSystemAttributeNames=["All"], **kwargs).get("Messages", [])


def drain(sqs, url, visibility=None):
    """Receive until an empty answer; returns every message received once (nothing deleted)."""
    got = []
    while True:
        batch = receive(sqs, url, visibility=visibility)
        if not batch:
            return got
        got.extend(batch)


def delete(sqs, url, messages):
    for start in range(0, len(messages), 10):
        chunk = messages[start:start + 10]
        resp = sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)])
        assert not resp.get("Failed"), resp


def counts(sqs, url):
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return (int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"]),
            int(attrs["ApproximateNumberOfMessagesDelayed"]))


def test_backlog_received_once_each_then_deleted(sqs):
    url = make_queue(sqs, VisibilityTimeout=60)
    send(sqs, url, (f"m{i}" for i in range(BACKLOG)))
    assert counts(sqs, url) == (BACKLOG, 0, 0)
    got = drain(sqs, url)
    assert sorted(m["Body"] for m in got) == sorted(f"m{i}" for i in range(BACKLOG))
    assert counts(sqs, url) == (0, BACKLOG, 0)          # all in flight, none visible
    delete(sqs, url, got)
    assert counts(sqs, url) == (0, 0, 0)
    assert receive(sqs, url) == []


def test_delayed_messages_not_received_early(sqs):
    url = make_queue(sqs, VisibilityTimeout=60)
    send(sqs, url, (f"late{i}" for i in range(BACKLOG)), delay=DELAY)
    send(sqs, url, (f"now{i}" for i in range(20)))
    early = drain(sqs, url)
    now = time.time()
    assert not [m for m in early if m["Body"].startswith("late") and not ready(m, now)]
    assert {f"now{i}" for i in range(20)} <= {m["Body"] for m in early}
    # long polling wakes up when a delay ends, without a send to notify it
    late = [m for m in early if m["Body"].startswith("late")]
    while len(late) < BACKLOG:
        batch = receive(sqs, url, wait=DELAY + 5)
        now = time.time()
        assert batch, "a delayed message never became receivable"
        assert all(ready(m, now) for m in batch)
        late.extend(batch)
    assert sorted(m["Body"] for m in late) == sorted(f"late{i}" for i in range(BACKLOG))


def ready(message, now):
    """True if the message's DelaySeconds had passed at `now` (it was sent DELAY seconds earlier)."""
    return now >= int(message["Attributes"]["SentTimestamp"]) / 1000 + DELAY - 0.002


def set_visibility(sqs, url, messages, seconds):
    for start in range(0, len(messages), 10):
        chunk = messages[start:start + 10]
        resp = sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": seconds}
            for i, m in enumerate(chunk)])
        assert not resp.get("Failed"), resp


def test_in_flight_invisible_until_timeout_then_redelivered(sqs):
    url = make_queue(sqs, VisibilityTimeout=60)
    send(sqs, url, (f"m{i}" for i in range(BACKLOG)))
    first = drain(sqs, url)
    assert len(first) == BACKLOG
    assert receive(sqs, url) == []                          # all invisible while in flight
    assert counts(sqs, url) == (0, BACKLOG, 0)
    delete(sqs, url, first[:100])                           # these are done
    changed = first[100]                                    # this one is handed back at once
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=changed["ReceiptHandle"], VisibilityTimeout=0)
    back = receive(sqs, url, visibility=60)
    assert [m["MessageId"] for m in back] == [changed["MessageId"]]
    assert back[0]["Attributes"]["ApproximateReceiveCount"] == "2"
    set_visibility(sqs, url, first[101:], 2)                # the rest time out 2 s from now
    time.sleep(2.1)
    again = drain(sqs, url, visibility=60)
    assert {m["MessageId"] for m in again} == {m["MessageId"] for m in first[101:]}
    assert all(m["Attributes"]["ApproximateReceiveCount"] == "2" for m in again)
    # an old receipt handle still deletes, as on moto's original path
    delete(sqs, url, first[101:])
    assert counts(sqs, url)[0:2] == (0, 1)


def test_max_receive_count_moves_to_dlq_with_backlog(sqs):
    dlq = make_queue(sqs)
    url = make_queue(sqs, VisibilityTimeout=60, RedrivePolicy=json.dumps(
        {"deadLetterTargetArn": arn(sqs, dlq), "maxReceiveCount": 2}))
    send(sqs, url, (f"m{i}" for i in range(BACKLOG)))
    for attempt in (1, 2):
        got = drain(sqs, url)
        assert len(got) == BACKLOG
        assert {m["Attributes"]["ApproximateReceiveCount"] for m in got} == {str(attempt)}
        set_visibility(sqs, url, got, 0)                    # as a consumer that gave up on them
    assert drain(sqs, url) == []                            # the third receive moves them instead
    assert counts(sqs, url) == (0, 0, 0)
    assert counts(sqs, dlq)[0] == BACKLOG
    moved = drain(sqs, dlq)
    assert sorted(m["Body"] for m in moved) == sorted(f"m{i}" for i in range(BACKLOG))


def test_purge_empties_the_index(sqs):
    url = make_queue(sqs, VisibilityTimeout=60)
    send(sqs, url, (f"m{i}" for i in range(500)))
    receive(sqs, url)
    sqs.purge_queue(QueueUrl=url)
    assert counts(sqs, url) == (0, 0, 0)
    assert receive(sqs, url) == []
    send(sqs, url, ["after"])
    assert [m["Body"] for m in receive(sqs, url)] == ["after"]


def test_fifo_queues_keep_group_order(sqs):
    url = sqs.create_queue(QueueName=f"scale-{uuid.uuid4().hex[:8]}.fifo",
                           Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
    for i in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=f"g{i}", MessageGroupId="g")
    got = receive(sqs, url)
    assert [m["Body"] for m in got] == [f"g{i}" for i in range(5)]
    assert receive(sqs, url) == []                          # the group is in flight
    delete(sqs, url, got)
    assert counts(sqs, url)[:2] == (0, 0)
