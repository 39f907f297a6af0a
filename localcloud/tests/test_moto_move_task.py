"""StartMessageMoveTask on the embedded moto (localcloud/moto_patches.py): a DLQ redriven to a named queue or to its
source, FIFO groups, order and attributes kept."""
import json
import uuid

import boto3
import pytest

from localcloud.cloud import start_moto


@pytest.fixture(scope="module")
def sqs():
    server, url = start_moto()
    yield boto3.client("sqs", region_name="us-east-1", endpoint_url=url, aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    server.stop()


def fifo(sqs, **attributes):
    url = sqs.create_queue(QueueName=f"q{uuid.uuid4().hex[:8]}.fifo", Attributes=dict(
        FifoQueue="true", ContentBasedDeduplication="true", **attributes))["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def drain(sqs, url):
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
    assert drain(sqs, dlq) == []
    moved = drain(sqs, other if named else source)
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
