"""Event sources of other people's templates: SNS topics and subscriptions (templates/events/)."""
import glob
import json
from pathlib import Path

import boto3
import pytest
from waiting import wait_until as wait_for

TEMPLATE = Path(__file__).resolve().parent / "templates" / "events"
pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    return tmp_path_factory.mktemp("records")


@pytest.fixture(scope="module")
def cloud(start_cloud, records):
    return start_cloud(template=TEMPLATE, env={"RECORD_DIR": str(records)}, isolated=False)


def seen(records, function):
    """The events a function recorded, oldest first."""
    return [json.loads(Path(p).read_text()) for p in sorted(glob.glob(str(records / function / "*.json")))]


def sns_messages(records, function):
    return [r["Sns"]["Message"] for event in seen(records, function) for r in event["Records"]]


def test_topic_is_created_and_ref_is_its_arn(cloud):
    arn = cloud.physical_id("Notices")
    assert arn.startswith("arn:aws:sns:us-east-1:") and arn.endswith(f":{cloud.stack_name}-Notices")
    assert arn in [t["TopicArn"] for t in boto3.client("sns").list_topics()["Topics"]]
    assert f"SNS {cloud.stack_name}-Notices -> Everything" in cloud.describe()


def test_published_message_reaches_the_function_as_lambdas_sns_event(cloud, records):
    topic = cloud.physical_id("Notices")
    message_id = boto3.client("sns").publish(
        TopicArn=topic, Message="hello", Subject="greeting",
        MessageAttributes={"priority": {"DataType": "String", "StringValue": "low"}})["MessageId"]
    [event] = wait_for(lambda: seen(records, "Everything"), timeout=20)
    [record] = event["Records"]
    assert record["EventSource"] == "aws:sns" and record["EventVersion"] == "1.0"
    assert record["EventSubscriptionArn"].startswith(topic + ":")
    sns = record["Sns"]
    assert sns["Type"] == "Notification" and sns["MessageId"] == message_id and sns["TopicArn"] == topic
    assert sns["Message"] == "hello" and sns["Subject"] == "greeting"
    assert sns["MessageAttributes"] == {"priority": {"Type": "String", "Value": "low"}}
    assert sns["Timestamp"] and sns["SigningCertUrl"] and sns["UnsubscribeUrl"]


def test_filter_policy_decides_who_gets_a_message(cloud, records):
    sns = boto3.client("sns")
    for text, priority in (("routine", "low"), ("fire", "high")):
        sns.publish(TopicArn=cloud.physical_id("Notices"), Message=text,
                    MessageAttributes={"priority": {"DataType": "String", "StringValue": priority}})
    wait_for(lambda: {"routine", "fire"} <= set(sns_messages(records, "Everything")), timeout=20)
    assert wait_for(lambda: sns_messages(records, "Urgent"), timeout=20) == ["fire"]
    # Through SAM's SqsSubscription the function reads a queue: an SQS event whose body is SNS's envelope.
    [event] = wait_for(lambda: seen(records, "Queued"), timeout=20)
    [record] = event["Records"]
    assert record["eventSource"] == "aws:sqs" and json.loads(record["body"])["Message"] == "fire"
    # An AWS::SNS::Subscription into a declared queue, raw delivery: the message itself lands there.
    sqs = boto3.client("sqs")
    bodies = wait_for(lambda: [m["Body"] for m in sqs.receive_message(
        QueueUrl=cloud.physical_id("Mirror"), MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])],
        timeout=20)
    assert set(bodies) <= {"hello", "routine", "fire"} and bodies
    assert sns_messages(records, "Urgent") == ["fire"]          # still only the one that matched


def test_a_failing_function_gets_the_message_again_twice(cloud, records):
    boto3.client("sns").publish(TopicArn=cloud.physical_id("Notices"), Message="shaky",
                                MessageAttributes={"priority": {"DataType": "String", "StringValue": "flaky"}})
    [event] = wait_for(lambda: seen(records, "Flaky"), timeout=30)
    message_id = event["Records"][0]["Sns"]["MessageId"]
    assert sorted(p.name for p in (records / "attempts" / message_id).iterdir()) == ["1", "2", "3"]
