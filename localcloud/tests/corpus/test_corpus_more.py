"""More public Python SAM templates (README.md here), found by running serverless-patterns as an outside tester
would (issue 25): a layer that is the only source of a package (isolated like Lambda), a function shipped as a
.zip beside an HTTP API written in OpenAPI (named, not served), and a DynamoDB stream whose consumer creates
EventBridge Scheduler schedules that fire another function. Each started, triggered and checked as its README
says."""
import datetime
import json
import uuid
from pathlib import Path

import boto3
import pytest
from polling import wait_until as wait_for

PATTERNS = Path(__file__).resolve().parent / "serverless-patterns"
pytestmark = pytest.mark.timeout(180)


def run(start_cloud, folder, isolated=False):
    """(cloud, invocations) as test_corpus.run; isolated=True runs the functions with their own code only."""
    cloud = start_cloud(template=folder, isolated=isolated)
    invocations = []
    cloud.runtime.observers.append(invocations.append)
    return cloud, invocations


def test_the_function_with_the_layer_imports_pymysql_and_the_one_without_fails_to(start_cloud):
    # Isolated as on Lambda: pymysql is in the layer's python/ folder only (the project's .venv is not seen).
    cloud, invocations = run(start_cloud, PATTERNS / "lambda-layer", isolated=True)
    assert cloud.invoke("PyMySQLLayerLambdaFunction", {}) is True
    with pytest.raises(Exception, match="No module named 'pymysql'"):
        cloud.invoke("PyMySQLNoLayerLambdaFunction", {})
    assert [(c["function"], c["error_type"]) for c in invocations] == [
        ("PyMySQLLayerLambdaFunction", None), ("PyMySQLNoLayerLambdaFunction", "Runtime.ImportModuleError")]


def test_the_zipped_function_consumes_the_queue_and_the_openapi_api_is_named(start_cloud):
    cloud, invocations = run(start_cloud, PATTERNS / "api-sqs-lambda-python")
    # The HTTP API is an OpenAPI body whose route sends to SQS directly: not read, and said so at start-up.
    assert cloud.not_emulated == ["property DefinitionBody of MyHttpApi (AWS::Serverless::HttpApi) is not applied "
                                  "locally"]
    outputs = cloud.stack.outputs()
    # What the API's SQS-SendMessage integration would send; the function's code is src/index.zip.
    boto3.client("sqs").send_message(QueueUrl=outputs["MySqsQueueURL"], MessageBody='{ "isMessageReceived": "Yes" }')
    [call] = wait_for(lambda: invocations, timeout=30)
    assert call["function"] == "SQSLambdaFunction" and call["error_type"] is None
    assert call["event"]["Records"][0]["body"] == '{ "isMessageReceived": "Yes" }'
    sqs = boto3.client("sqs")         # the batch succeeded: deleted, nothing left in the queue
    wait_for(lambda: sqs.get_queue_attributes(QueueUrl=outputs["MySqsQueueURL"], AttributeNames=["All"])[
        "Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "0", timeout=30)
    assert sqs.receive_message(QueueUrl=outputs["MySqsQueueURL"]).get("Messages") is None


def test_an_item_put_in_the_table_becomes_a_schedule_that_fires_the_target(start_cloud, caplog):
    caplog.set_level("INFO", logger="fn.TargetLambdaFunction")
    cloud, invocations = run(start_cloud, PATTERNS / "dynamodb-eventbridge-scheduler")
    assert cloud.not_emulated == ["custom resource TriggerTestSchedule (Custom::TestSchedule) is not run locally"]
    name = f"my-test-schedule-{uuid.uuid4().hex[:8]}"
    at = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=3)).strftime("%Y-%m-%dT%H:%M:%S")
    boto3.client("dynamodb").put_item(TableName=cloud.stack.outputs()["TableName"], Item={
        "scheduleId": {"S": name}, "scheduleExpression": {"S": f"at({at})"},
        "payload": {"S": json.dumps({"message": "Hello from my schedule"})}, "enabled": {"BOOL": True}})
    [created] = wait_for(lambda: [c for c in invocations if c["function"] == "StreamProcessorFunction"], timeout=30)
    assert created["error_type"] is None and created["event"]["Records"][0]["eventName"] == "INSERT"
    assert boto3.client("scheduler").get_schedule(Name=name)["ScheduleExpression"] == f"at({at})"
    [fired] = wait_for(lambda: [c for c in invocations if c["function"] == "TargetLambdaFunction"], timeout=30)
    assert fired["trigger"] == f"scheduler:{name}" and fired["error_type"] is None
    assert fired["event"] == {"message": "Hello from my schedule"}
    printed = 'Scheduled task executed with payload: {"message": "Hello from my schedule"}'     # as its README says
    assert wait_for(lambda: [r for r in caplog.records if printed in r.getMessage()], timeout=10)
