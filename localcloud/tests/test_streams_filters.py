"""DynamoDB and Kinesis streams, event source mappings written by hand, and FilterCriteria (templates/streams/)."""
import base64
import json
import textwrap
from pathlib import Path

import boto3
import pytest
from recorded import module_fixtures, seen
from polling import wait_until as wait_for

from localcloud.template import Stack, TemplateError

TEMPLATE = Path(__file__).resolve().parent / "templates" / "streams"
pytestmark = [pytest.mark.timeout(120), pytest.mark.random_order(disabled=True)]
records, cloud = module_fixtures(TEMPLATE)


def bodies(records, function):
    return [r["body"] for event in seen(records, function) for r in event["Records"]]


def queue_is_empty(url):
    attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return all(v == "0" for v in attributes.values())


def test_sqs_filter_criteria_pass_matching_records_and_delete_the_others(cloud, records):
    url = cloud.physical_id("Jobs")
    sqs = boto3.client("sqs")
    for body in ('{"kind": "job", "size": 50}', '{"kind": "job", "size": 5}', '{"kind": "mail", "size": 50}',
                 "ping", "pong", "not json {"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    wait_for(lambda: len(bodies(records, "Filtered")) >= 2, timeout=20)
    wait_for(lambda: queue_is_empty(url), timeout=20)        # the unmatched ones are deleted, not left to redrive
    assert sorted(bodies(records, "Filtered")) == sorted(['{"kind": "job", "size": 50}', "ping"])
    poller = next(p for p in cloud.pollers if getattr(p, "trigger", "") == "sqs:Jobs")
    assert poller.stats["filtered"] == 4


def test_dynamodb_stream_records_reach_the_function_in_lambdas_shape(cloud, records):
    table = boto3.resource("dynamodb").Table(cloud.physical_id("Orders"))
    for n in range(3):
        table.put_item(Item={"id": f"o{n}", "size": "small", "count": n})
    wait_for(lambda: sum(len(e["Records"]) for e in seen(records, "OnOrder")) >= 3, timeout=20)
    batches = seen(records, "OnOrder")
    assert all(len(e["Records"]) <= 2 for e in batches)                       # BatchSize 2
    stream = [r for e in batches for r in e["Records"]]
    assert [r["dynamodb"]["Keys"]["id"]["S"] for r in stream] == ["o0", "o1", "o2"]     # in order
    record = stream[0]
    stream_arn = boto3.client("dynamodb").describe_table(TableName=cloud.physical_id("Orders"))["Table"][
        "LatestStreamArn"]
    assert record["eventSource"] == "aws:dynamodb" and record["eventName"] == "INSERT"
    assert record["eventSourceARN"] == stream_arn and record["awsRegion"] == "us-east-1"
    assert record["dynamodb"]["NewImage"] == {"id": {"S": "o0"}, "size": {"S": "small"}, "count": {"N": "0"}}
    assert record["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int) and record["eventID"]
    assert record["dynamodb"]["SequenceNumber"] < stream[1]["dynamodb"]["SequenceNumber"]
    # !GetAtt Table.StreamArn is the stream's real ARN; a SimpleTable exists with its name as !Ref
    assert cloud.stack.functions()["OnOrder"].environment["STREAM"] == stream_arn
    settings = boto3.client("dynamodb").describe_table(TableName=cloud.physical_id("Settings"))["Table"]
    assert settings["KeySchema"] == [{"AttributeName": "key", "KeyType": "HASH"}]
    assert "DynamoDB stream Orders -> OnOrder" in cloud.describe()


def test_stream_filter_criteria_and_a_mapping_written_by_hand_retrying_a_failed_batch(cloud, records):
    client = boto3.client("dynamodb")
    name = cloud.physical_id("Orders")
    client.put_item(TableName=name, Item={"id": {"S": "b1"}, "size": {"S": "big"}})
    client.put_item(TableName=name, Item={"id": {"S": "s1"}, "size": {"S": "small"}})
    client.update_item(TableName=name, Key={"id": {"S": "b1"}}, UpdateExpression="SET #s = :s",
                       ExpressionAttributeNames={"#s": "size"}, ExpressionAttributeValues={":s": {"S": "huge"}})
    client.delete_item(TableName=name, Key={"id": {"S": "b1"}})
    wait_for(lambda: sum(len(e["Records"]) for e in seen(records, "OnOrder")) >= 7, timeout=20)
    [big] = wait_for(lambda: seen(records, "BigOrders"), timeout=20)
    assert [(r["eventName"], r["dynamodb"]["Keys"]["id"]["S"]) for r in big["Records"]] == [("INSERT", "b1")]
    # the hand-written mapping sees only MODIFY records; its first attempt fails and the batch comes again
    [retried] = wait_for(lambda: seen(records, "Retried"), timeout=30)
    assert [r["eventName"] for r in retried["Records"]] == ["MODIFY"]
    event_id = retried["Records"][0]["eventID"]
    assert sorted(p.name for p in (records / "attempts" / event_id).iterdir()) == ["1", "2"]
    assert len(seen(records, "BigOrders")) == 1


def test_sqs_mapping_written_by_hand_applies_its_filter(cloud, records):
    url = cloud.physical_id("HandJobs")
    sqs = boto3.client("sqs")
    for to in ("ops-team", "sales", "ops-night"):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"to": to}))
    wait_for(lambda: queue_is_empty(url) and len(bodies(records, "ByHand")) >= 2, timeout=20)
    assert sorted(json.loads(b)["to"] for b in bodies(records, "ByHand")) == ["ops-night", "ops-team"]
    assert "SQS HandJobs -> ByHand" in cloud.describe()
    assert not [line for line in cloud.not_emulated if "Mapping" in line or "FilterCriteria" in line]


def test_kinesis_event_and_a_mapping_written_by_hand_filter_on_data_and_retry(cloud, records):
    kinesis = boto3.client("kinesis")
    stream = cloud.physical_id("Clicks")
    sent = [{"kind": "click", "page": "/buy/1"}, {"kind": "view", "page": "/buy/2"}, "not json",
            {"kind": "click", "page": "/home"}, {"kind": "click", "page": "/about"}]
    for item in sent:
        data = item if isinstance(item, str) else json.dumps(item)
        kinesis.put_record(StreamName=stream, Data=data.encode(), PartitionKey="user-1")
    wait_for(lambda: sum(len(e["Records"]) for e in seen(records, "OnClick")) >= 3, timeout=20)
    batches = seen(records, "OnClick")
    assert all(len(e["Records"]) <= 2 for e in batches)                        # BatchSize 2
    clicks = [r for e in batches for r in e["Records"]]
    assert [json.loads(base64.b64decode(r["kinesis"]["data"]))["page"] for r in clicks] == [
        "/buy/1", "/home", "/about"]                                            # in order, views and text dropped
    record = clicks[0]
    assert record["eventSource"] == "aws:kinesis" and record["eventName"] == "aws:kinesis:record"
    assert record["eventSourceARN"] == f"arn:aws:kinesis:us-east-1:123456789012:stream/{stream}"
    assert record["kinesis"]["partitionKey"] == "user-1" and record["eventID"].startswith("shardId-")
    assert record["eventID"].endswith(":" + record["kinesis"]["sequenceNumber"])
    # the mapping written by hand: its own filter (both /buy records, whatever their kind); the first attempt of the
    # batch fails and it comes again
    [buys] = wait_for(lambda: seen(records, "BuyClicks"), timeout=30)
    assert [json.loads(base64.b64decode(r["kinesis"]["data"]))["page"] for r in buys["Records"]] == [
        "/buy/1", "/buy/2"]
    assert sorted(p.name for p in (records / "attempts" / buys["Records"][0]["eventID"]).iterdir()) == ["1", "2"]
    assert {"Kinesis stream Clicks -> OnClick", "Kinesis stream Clicks -> BuyClicks"} <= set(cloud.describe())
    assert not [line for line in cloud.not_emulated if "Kinesis" in line or "Clicks" in line]


def _stack(tmp_path, body):
    (tmp_path / "template.yaml").write_text(textwrap.dedent("""
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Q:
            Type: AWS::SQS::Queue
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              InlineCode: "def handler(event, context): return {}"
              Handler: index.handler
              Runtime: python3.11
              Events:
                Work:
                  Type: SQS
                  Properties:
                    Queue: !GetAtt Q.Arn
    """) + textwrap.indent(textwrap.dedent(body), " " * 12))
    return Stack(tmp_path)


@pytest.mark.parametrize("criteria, message", [
    ("FilterCriteria: {Filters: [{Pattern: '{\"body\": \"job\"}'}]}",
     "'body' must be an object or an array"),
    ("FilterCriteria: {Filters: [{Pattern: 'not json'}]}", "Invalid JSON"),
    ("FilterCriteria: {Filters: [{Pattern: '{\"a\": [1]}'}, {Pattern: '{\"a\": [1]}'}, {Pattern: '{\"a\": [1]}'},"
     " {Pattern: '{\"a\": [1]}'}, {Pattern: '{\"a\": [1]}'}, {Pattern: '{\"a\": [1]}'}]}", "at most 5 filters"),
])
def test_a_filter_lambda_would_refuse_is_refused_naming_the_event(tmp_path, criteria, message):
    with pytest.raises(TemplateError) as refused:
        _stack(tmp_path, criteria).sqs_mappings()
    assert "event Work of Fn: FilterCriteria" in str(refused.value) and message in str(refused.value)


def test_console_lists_stream_triggers(cloud):
    from localcloud.console.resources import Resources
    triggers = {f["id"]: f["triggers"] for f in Resources(cloud).functions()}
    assert triggers["OnOrder"] == ["DynamoDB stream Orders (batch 2)"]
    assert triggers["Retried"] == ["DynamoDB stream Orders (batch 10)"]
    assert triggers["OnClick"] == ["Kinesis stream Clicks (batch 2)"]
