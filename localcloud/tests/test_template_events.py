"""Event sources of other people's templates: SNS topics and subscriptions (templates/events/)."""
import json
from pathlib import Path

import boto3
import pytest
from recorded import module_fixtures, seen
from polling import wait_until as wait_for

TEMPLATE = Path(__file__).resolve().parent / "templates" / "events"
# The tests share one topic and one record folder, and each counts what the earlier ones published: kept in
# their written order (modules still run in a random order).
pytestmark = [pytest.mark.timeout(120), pytest.mark.random_order(disabled=True)]
records, cloud = module_fixtures(TEMPLATE)


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
    [event] = wait_for(lambda: [e for e in seen(records, "Everything")
                                if e["Records"][0]["Sns"]["MessageId"] == message_id], timeout=20)
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


def test_s3_notifications_with_prefix_and_suffix_filters(cloud, records):
    s3 = boto3.client("s3")
    bucket = cloud.physical_id("Uploads")
    for key in ("other/a.csv", "reports/a.txt", "reports/2026/q1.csv"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x,y\n")
    [event] = wait_for(lambda: seen(records, "Reports"), timeout=20)
    [record] = event["Records"]
    assert record["eventSource"] == "aws:s3" and record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["bucket"]["name"] == bucket and record["s3"]["object"]["key"] == "reports%2F2026%2Fq1.csv"
    s3.delete_object(Bucket=bucket, Key="reports/2026/q1.csv")
    [removed] = wait_for(lambda: seen(records, "Removed"), timeout=20)
    assert removed["Records"][0]["eventName"].startswith("ObjectRemoved:")
    assert removed["Records"][0]["s3"]["object"]["key"] == "reports%2F2026%2Fq1.csv"
    assert len(seen(records, "Reports")) == 1                  # neither the filtered-out keys nor the delete


def test_eventbridge_rules_match_patterns_on_custom_and_default_buses(cloud, records):
    events = boto3.client("events")
    bus = cloud.physical_id("Orders")
    events.put_events(Entries=[
        {"EventBusName": bus, "Source": "shop", "DetailType": "OrderPlaced", "Detail": json.dumps({"amount": 50})},
        {"EventBusName": bus, "Source": "shop", "DetailType": "OrderPlaced", "Detail": json.dumps({"amount": 150})},
        {"Source": "shop", "DetailType": "OrderPlaced", "Detail": json.dumps({"amount": 500})},   # default bus
        {"Source": "greeter", "DetailType": "Hello", "Detail": json.dumps({"who": "bob"})},
        {"Source": "auditor", "DetailType": "Checked", "Detail": json.dumps({"id": 7})},
    ])
    [order] = wait_for(lambda: seen(records, "OnOrder"), timeout=20)
    assert order["source"] == "shop" and order["detail-type"] == "OrderPlaced" and order["detail"] == {"amount": 150}
    assert order["account"] and order["region"] == "us-east-1"
    assert wait_for(lambda: seen(records, "OnDefault"), timeout=20) == [{"greeting": "hi bob"}]   # input transformer
    assert wait_for(lambda: seen(records, "Audit"), timeout=20) == [{"constant": True}]          # AWS::Events::Rule
    assert len(seen(records, "OnOrder")) == 1


def test_console_lists_the_new_triggers(cloud):
    from localcloud.console.resources import Resources
    triggers = {f["id"]: f["triggers"] for f in Resources(cloud).functions()}
    assert triggers["Everything"] == [f"SNS {cloud.stack_name}-Notices (All)"]
    assert triggers["Reports"] == [f"S3 {cloud.physical_id('Uploads')} s3:ObjectCreated:* (CsvReports)"]
    assert triggers["OnOrder"] == [f"EventBridge {cloud.physical_id('Orders')} (BigOrder)"]
    assert triggers["Audit"] == ["EventBridge default (AuditRule)"]


def test_a_changed_event_source_in_the_template_asks_for_a_restart(start_cloud, tmp_path, caplog):
    import logging
    import shutil
    from localcloud.reload import Watcher
    folder = tmp_path / "events"
    shutil.copytree(TEMPLATE, folder)
    cloud = start_cloud(template=folder, env={"RECORD_DIR": str(tmp_path)}, isolated=False,
                        functions=["Urgent"])
    template = folder / "template.yaml"
    template.write_text(template.read_text().replace("priority: [high]", "priority: [urgent]"))
    caplog.set_level(logging.WARNING, logger="localcloud.reload")
    Watcher(cloud)._template_changed()
    assert any("restart the local cloud" in r.getMessage() and "SNS event sources" in r.getMessage()
               for r in caplog.records)


def test_an_event_source_mapping_written_by_hand(cloud, records):
    assert "SQS HandQueue -> ByHand" in cloud.describe()
    boto3.client("sqs").send_message(QueueUrl=cloud.physical_id("HandQueue"), MessageBody="by hand")
    [event] = wait_for(lambda: seen(records, "ByHand"), timeout=20)
    assert [r["body"] for r in event["Records"]] == ["by hand"]
    assert event["Records"][0]["eventSourceARN"].endswith(":" + cloud.physical_id("HandQueue").rsplit("/", 1)[-1])


def test_sns_subscription_resource_to_a_function_and_eventbridge_input_path(cloud, records):
    boto3.client("sns").publish(TopicArn=cloud.physical_id("Notices"), Message="via resource",
                                MessageAttributes={"priority": {"DataType": "String", "StringValue": "subscribed"}})
    [event] = wait_for(lambda: seen(records, "ViaSubscription"), timeout=20)
    assert event["Records"][0]["Sns"]["Message"] == "via resource"
    boto3.client("events").put_events(Entries=[{"Source": "detailer", "DetailType": "X",
                                                "Detail": json.dumps({"only": "this"})}])
    assert wait_for(lambda: seen(records, "DetailOnly"), timeout=20) == [{"only": "this"}]
