"""The local Lambda Invoke API (lambda_api.py): a function's boto3 lambda client reaches the stack's functions,
synchronously and asynchronously, with Lambda's answers for errors, unknown functions and oversized payloads."""
import json
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from polling import wait_until

TEMPLATE = Path(__file__).resolve().parent / "templates" / "lambda_invoke"
pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def cloud(start_cloud):
    cloud = start_cloud(template=TEMPLATE, isolated=False)
    cloud.lambda_api.retry_delay = 0.05       # Lambda waits a minute, then two, before its retries
    yield cloud
    start_cloud.stop([cloud])


@pytest.fixture
def invocations(cloud):
    seen = []
    cloud.runtime.observers.append(seen.append)
    yield seen
    cloud.runtime.observers.remove(seen.append)


def call(cloud, **event):
    return cloud.invoke("Caller", event)


def test_a_function_invokes_another_by_name_and_by_arn(cloud):
    name = cloud.physical_id("Echo")
    assert name == f"{cloud.stack_name}-echo"
    assert call(cloud, target=name, payload={"n": 1}) == {
        "status": 200, "error": None, "payload": {"got": {"n": 1}, "name": "Echo"}}
    assert call(cloud, target="echo-arn", payload=[1, 2])["payload"]["got"] == [1, 2]
    assert call(cloud, target=f"{name}:$LATEST")["payload"]["got"] == {}


def test_a_handler_error_is_a_function_error_in_the_answer(cloud):
    answer = call(cloud, target=cloud.physical_id("Fails"), payload={"a": 1})
    assert answer["status"] == 200 and answer["error"] == "Unhandled"
    assert answer["payload"]["errorType"] == "ValueError" and answer["payload"]["errorMessage"] == "no: {'a': 1}"
    assert any("raise ValueError" in line for line in answer["payload"]["stackTrace"])


def test_an_unknown_function_or_version_is_resource_not_found(cloud):
    answer = call(cloud, target="no-such-function")
    assert answer["code"] == "ResourceNotFoundException" and "no-such-function" in answer["message"]
    assert call(cloud, target=f"{cloud.physical_id('Echo')}:7")["code"] == "ResourceNotFoundException"


def test_an_event_invocation_is_accepted_then_retried_twice_after_errors(cloud, invocations):
    answer = call(cloud, target=cloud.physical_id("Fails"), type="Event", payload={"job": 9})
    assert answer == {"status": 202, "error": None, "payload": None}
    failed = wait_until(lambda: [c for c in invocations if c["function"] == "Fails"][:3]
                        if len([c for c in invocations if c["function"] == "Fails"]) >= 3 else None, timeout=30)
    assert [(c["trigger"], c["event"], c["error_type"]) for c in failed] == [
        ("lambda:event", {"job": 9}, "ValueError")] * 3


def test_an_event_invocation_of_a_working_function_runs_once(cloud, invocations):
    assert call(cloud, target=cloud.physical_id("Echo"), type="Event", payload={"x": "y"})["status"] == 202
    [done] = wait_until(lambda: [c for c in invocations if c["function"] == "Echo"], timeout=30)
    assert done["event"] == {"x": "y"} and done["error_type"] is None and done["trigger"] == "lambda:event"


def test_payload_quotas_dry_run_and_other_calls(cloud):
    client = boto3.client("lambda", endpoint_url=cloud.lambda_api.url)
    name = cloud.physical_id("Echo")
    over_async = json.dumps({"blob": "x" * (1024 * 1024)})
    with pytest.raises(ClientError) as caught:
        client.invoke(FunctionName=name, InvocationType="Event", Payload=over_async)
    assert caught.value.response["Error"]["Code"] == "RequestEntityTooLargeException"
    # the same payload is within the 6 MB of a synchronous call
    assert json.loads(client.invoke(FunctionName=name, Payload=over_async)["Payload"].read())["got"]["blob"]
    assert client.invoke(FunctionName=name, InvocationType="DryRun")["StatusCode"] == 204
    with pytest.raises(ClientError) as caught:
        client.list_functions()
    assert "only the Invoke API is emulated" in caught.value.response["Error"]["Message"]
