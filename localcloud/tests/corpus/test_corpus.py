"""Public Python SAM templates (README.md here), each started on the local cloud, its trigger fired and its
effect checked as its README describes it."""
import json
import logging
from pathlib import Path

import boto3
import pytest
import requests
from polling import wait_until as wait_for

HERE = Path(__file__).resolve().parent
SAM_APPS = HERE / "aws-sam-cli-app-templates"
PATTERNS = HERE / "serverless-patterns"
pytestmark = pytest.mark.timeout(120)


def run(start_cloud, folder):
    """(cloud, invocations): the template started on the project's interpreter (no installs, no internet);
    invocations fills with every finished invocation (function, trigger, event, error_type)."""
    cloud = start_cloud(template=folder, isolated=False)
    invocations = []
    cloud.runtime.observers.append(invocations.append)
    return cloud, invocations


def test_hello_world_answers_on_the_url_its_output_names(start_cloud):
    cloud, _ = run(start_cloud, SAM_APPS / "hello")
    url = cloud.stack.outputs()["HelloWorldApi"]            # https://${ServerlessRestApi}.execute-api... made local
    assert url.startswith("http://127.0.0.1:") and url.endswith("/Prod/hello/")
    answer = requests.get(url, timeout=20)
    assert answer.status_code == 200 and answer.json() == {"message": "hello world"}
    assert cloud.stack.outputs()["HelloWorldFunctionIamRole"].endswith("HelloWorldFunctionRole")


def test_web_conn_puts_and_reads_items_of_its_simple_table(start_cloud):
    cloud, _ = run(start_cloud, SAM_APPS / "web-conn")
    base = cloud.stack.outputs()["WebEndpoint"]
    assert requests.post(base, json={"id": "id1", "name": "Alice"}, timeout=20).status_code == 200
    assert requests.get(base + "id1", timeout=20).json() == {"id": {"S": "id1"}, "name": {"S": "Alice"}}
    assert requests.get(base, timeout=20).json() == [{"id": {"S": "id1"}, "name": {"S": "Alice"}}]
    item = boto3.client("dynamodb").get_item(TableName=cloud.physical_id("SampleTable"), Key={"id": {"S": "id1"}})
    assert item["Item"]["name"] == {"S": "Alice"}
    assert not [line for line in cloud.not_emulated if "Connector" in line]


def test_event_bridge_function_gets_ec2_state_changes_only(start_cloud, caplog):
    caplog.set_level(logging.INFO, logger="fn.HelloWorldFunction")
    cloud, invocations = run(start_cloud, SAM_APPS / "event-bridge")
    sample = json.loads((SAM_APPS / "event-bridge" / "events" / "event.json").read_text())
    boto3.client("events").put_events(Entries=[
        {"Source": "aws.s3", "DetailType": sample["detail-type"], "Detail": json.dumps(sample["detail"])},
        {"Source": sample["source"], "DetailType": sample["detail-type"],
         "Detail": json.dumps(dict(sample["detail"], state="running")), "Resources": sample["resources"]}])
    [call] = wait_for(lambda: invocations, timeout=20)
    assert call["function"] == "HelloWorldFunction" and call["error_type"] is None
    assert call["event"]["source"] == "aws.ec2" and call["event"]["detail"]["state"] == "running"
    assert wait_for(lambda: [r for r in caplog.records if "Instance i-abcd1111 transitioned to running"
                             in r.getMessage()], timeout=10)


def test_sqs_messages_are_processed_and_leave_the_queue(start_cloud, caplog):
    caplog.set_level(logging.INFO, logger="fn.ProcessorFunction")
    cloud, invocations = run(start_cloud, PATTERNS / "sqs-lambda-python-sam")
    url = cloud.stack.outputs()["ProcessingQueueURL"]
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=url, MessageBody="Hello from SQS")
    wait_for(lambda: [r for r in caplog.records if "Processed message: Hello from SQS" in r.getMessage()], timeout=20)
    wait_for(lambda: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"][
        "ApproximateNumberOfMessagesNotVisible"] == "0", timeout=20)
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"] == "0"
    assert [c["trigger"] for c in invocations] == ["sqs:ProcessingQueue"]


def test_sns_messages_reach_the_function(start_cloud, caplog):
    caplog.set_level(logging.INFO, logger="fn.ProcessorFunction")
    cloud, invocations = run(start_cloud, PATTERNS / "sns-lambda-python-sam")
    boto3.client("sns").publish(TopicArn=cloud.stack.outputs()["ProcessingTopicArn"], Message="test message")
    wait_for(lambda: [r for r in caplog.records if "Processed message test message" in r.getMessage()], timeout=20)
    # The handler logs before its invocation is reported finished: wait for the report too.
    [call] = wait_for(lambda: invocations, timeout=20)
    assert call["event"]["Records"][0]["EventSource"] == "aws:sns"


def test_esm_sqs_filters_pass_each_function_only_what_its_filter_matches(start_cloud):
    cloud, invocations = run(start_cloud, PATTERNS / "lambda-esm-sqs-filters-sam")
    topic = cloud.stack.outputs()["SNSArn"]
    sample = json.loads((PATTERNS / "lambda-esm-sqs-filters-sam" / "events" / "testMessage.json").read_text())
    sns = boto3.client("sns")
    # The README's test message: every filter but anything-but-GA... matches it (its state is MA).
    sns.publish(TopicArn=topic, Message=json.dumps(sample))
    everyone = {"NoFilter", "Prefix", "AnythingBut", "IP", "And", "Or"}
    wait_for(lambda: {c["function"].removeprefix("EsmSqsFilterFunction") for c in invocations} == everyone,
             timeout=30)
    # One that only the unfiltered function and anything-but match.
    invocations.clear()
    sns.publish(TopicArn=topic, Message=json.dumps({"region": "eu-west-1", "sourceIPAddress": "192.168.1.1",
                                                    "rating": 0, "address": {"state": "NY"}}))
    wait_for(lambda: {c["function"].removeprefix("EsmSqsFilterFunction") for c in invocations}
             == {"NoFilter", "AnythingBut"}, timeout=30)
    for logical in ("EsmSqsFilterQueuePrefix", "EsmSqsFilterQueueIP", "EsmSqsFilterQueueAnd", "EsmSqsFilterQueueOr"):
        url = cloud.physical_id(logical)
        wait_for(lambda url=url: boto3.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])[
            "Attributes"]["ApproximateNumberOfMessages"] == "0", timeout=20)     # filtered out, and deleted
    assert {c["function"].removeprefix("EsmSqsFilterFunction") for c in invocations} == {"NoFilter", "AnythingBut"}


def test_http_api_inline_code_answers(start_cloud):
    cloud, _ = run(start_cloud, PATTERNS / "apigw-http-api-lambda-python")
    answer = requests.get(cloud.api_url("ServerlessHttpApi") + "/anything", timeout=20)
    assert answer.status_code == 200 and answer.text == "Hello World! This is the HTTP API"
    assert cloud.stack.outputs()["HttpApiEndpoint"] == cloud.physical_id("ServerlessHttpApi")
