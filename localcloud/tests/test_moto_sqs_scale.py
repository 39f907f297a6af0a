"""The indexed SQS receive path (localcloud/moto_patches.py) keeps SQS semantics with thousands of messages
waiting: delays, visibility, receive counts, redrive to the DLQ, purge, long polling, counts;
and StartMessageMoveTask."""
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


# StartMessageMoveTask (moto_patches.make_sqs_message_move_tasks): a DLQ redriven to a named queue or to its
# source, FIFO groups, order and attributes kept.
def fifo(sqs, **attributes):
    url = sqs.create_queue(QueueName=f"q{uuid.uuid4().hex[:8]}.fifo", Attributes=dict(
        FifoQueue="true", ContentBasedDeduplication="true", **attributes))["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def drain_groups(sqs, url):
    out = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                  AttributeNames=["All"]).get("Messages", [])
        if not got:
            return out
        for m in got:
            out.append((m["Attributes"]["MessageGroupId"], m["Body"], m.get("MessageAttributes")))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


@pytest.mark.parametrize("named", [True, False], ids=["to-a-named-queue", "back-to-its-source"])
def test_a_fifo_dlq_is_moved_in_group_order(sqs, named):
    dlq, dlq_arn = fifo(sqs)
    source, source_arn = fifo(sqs, VisibilityTimeout="0", RedrivePolicy=json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1}))
    other, other_arn = fifo(sqs)
    sent = [("a", "a1"), ("b", "b1"), ("a", "a2"), ("b", "b2")]
    for group, body in sent:
        sqs.send_message(QueueUrl=dlq, MessageBody=body, MessageGroupId=group,
                         MessageAttributes={"n": {"DataType": "String", "StringValue": body}})
    task = sqs.start_message_move_task(SourceArn=dlq_arn, **({"DestinationArn": other_arn} if named else {}))
    assert drain_groups(sqs, dlq) == []
    moved = drain_groups(sqs, other if named else source)
    assert sorted(moved) == sorted((g, b, {"n": {"DataType": "String", "StringValue": b}}) for g, b in sent)
    for group in ("a", "b"):
        assert [b for g, b, _ in moved if g == group] == [b for g, b in sent if g == group]
    [listed] = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    assert listed["TaskHandle"] == task["TaskHandle"] and listed["Status"] == "COMPLETED"
    assert listed["ApproximateNumberOfMessagesMoved"] == 4
    assert listed["DestinationArn"] == (other_arn if named else source_arn)


def test_a_queue_that_is_no_ones_dlq_needs_a_destination(sqs):
    _url, arn = fifo(sqs)
    with pytest.raises(sqs.exceptions.ClientError, match="DestinationArn is needed"):
        sqs.start_message_move_task(SourceArn=arn)
