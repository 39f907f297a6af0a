"""EventBridge rules whose targets are a queue, a FIFO queue or a topic of the template (templates/rule_targets/):
matched events are sent on with Input, InputPath and InputTransformer applied; other targets are named."""
import json
from pathlib import Path

import boto3
import pytest
from polling import wait_until

TEMPLATE = Path(__file__).resolve().parent / "templates" / "rule_targets"
pytestmark = pytest.mark.timeout(120)


def received(url, attributes=()):
    messages = boto3.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                                   AttributeNames=list(attributes)).get("Messages", [])
    return messages


def test_matched_events_reach_the_rules_queue_and_topic_targets(start_cloud):
    cloud = start_cloud(template=TEMPLATE, isolated=False)
    bus = cloud.physical_id("Shipments")
    boto3.client("events").put_events(Entries=[
        {"EventBusName": bus, "Source": "warehouse", "DetailType": "Shipped",
         "Detail": json.dumps({"order": 7, "weight": 2})},                      # too light: no match
        {"EventBusName": bus, "Source": "warehouse", "DetailType": "Delayed",
         "Detail": json.dumps({"order": 8, "weight": 20})},                     # other detail-type
        {"Source": "warehouse", "DetailType": "Shipped",
         "Detail": json.dumps({"order": 9, "weight": 20})},                     # the default bus
        {"EventBusName": bus, "Source": "warehouse", "DetailType": "Shipped",
         "Detail": json.dumps({"order": 10, "weight": 12})},
    ])
    [whole] = wait_until(lambda: received(cloud.physical_id("Inbox")), timeout=30)
    event = json.loads(whole["Body"])
    assert event["source"] == "warehouse" and event["detail-type"] == "Shipped"
    assert event["detail"] == {"order": 10, "weight": 12} and event["account"] and event["region"] == "us-east-1"
    [detail] = wait_until(lambda: received(cloud.physical_id("OrderedInbox"), ["MessageGroupId"]), timeout=30)
    assert json.loads(detail["Body"]) == {"order": 10, "weight": 12}                         # InputPath
    assert detail["Attributes"]["MessageGroupId"] == "shipments"                           # SqsParameters
    [summary] = wait_until(lambda: received(cloud.physical_id("AlertsCopy")), timeout=30)
    assert json.loads(summary["Body"]) == {"order": 10, "note": "shipped"}                  # InputTransformer
    assert received(cloud.physical_id("Inbox")) == []                                      # only the one match
    assert f"EventBridge rule ShippedRule-summary (bus {bus}) -> topic Alerts" in cloud.describe()


def test_a_target_the_local_cloud_does_not_deliver_to_is_named(start_cloud):
    cloud = start_cloud(template=TEMPLATE, isolated=False)
    assert cloud.not_emulated == [
        "target machine of rule ShippedRule (arn:aws:states:us-east-1:123456789012:stateMachine:elsewhere) is not "
        "emulated locally (only functions, queues and topics of this template are): nothing reaches it"]
