"""Public Python SAM templates of the asynchronous event kinds (README.md here): S3 notifications, DynamoDB streams,
schedules (Schedule and AWS::Scheduler::Schedule) and SQS FIFO queues, each started on the local cloud, its trigger
fired and its effect checked as its README describes it."""
import base64
import json
import uuid
from pathlib import Path

import boto3
import pytest
import requests
from polling import wait_until as wait_for

from localcloud.testing import sent_email

PATTERNS = Path(__file__).resolve().parent / "serverless-patterns"
pytestmark = pytest.mark.timeout(120)


def run(start_cloud, folder, **options):
    """(cloud, invocations) as test_corpus.run, with the cloud's options (parameters, rate_scale, ...)."""
    cloud = start_cloud(template=folder, isolated=False, **options)
    invocations = []
    cloud.runtime.observers.append(invocations.append)
    return cloud, invocations


def sent_mail():
    """Every email moto's SES has sent (the session's moto runs in this process): (destination addresses, subject,
    text body)."""
    return [(m["destinations"]["ToAddresses"], m["subject"], m["body"]) for m in sent_email()]


def test_s3_upload_mails_a_presigned_link_to_the_object(start_cloud, aws_endpoint):
    recipient = f"{uuid.uuid4().hex}@example.com"      # moto's sent mail is every test's: ours by its address
    cloud, invocations = run(start_cloud, PATTERNS / "s3-lambda-ses-sam",
                             parameters={"SenderEmailId": "sender@example.com", "RecipientEmailId": recipient})
    bucket = cloud.stack.outputs()["MyBucketName"]
    assert bucket == f"{cloud.stack_name}-123456789012-us-east-1"
    boto3.client("s3").put_object(Bucket=bucket, Key="report.pdf", Body=b"%PDF-1.4")
    [(_to, subject, text)] = wait_for(lambda: [m for m in sent_mail() if m[0] == [recipient]],
                                      timeout=30)
    assert subject == "New Amazon S3 object uploaded"
    url = text.split("The URL will expire in one hour: ", 1)[1]
    assert f"/{bucket}/report.pdf?" in url
    assert requests.get(url, timeout=10).content == b"%PDF-1.4"      # the link gives the object back
    [call] = wait_for(lambda: invocations, timeout=20)
    assert call["error_type"] is None and call["event"]["Records"][0]["eventName"] == "ObjectCreated:Put"


def test_s3_objects_with_the_payload_prefix_reach_the_asynchronous_function_only(start_cloud, caplog):
    caplog.set_level("INFO", logger="fn.AsynchronousFunction")
    bucket = f"payloads-{uuid.uuid4().hex[:12]}"
    cloud, invocations = run(start_cloud, PATTERNS / "lambda-s3-async-lambda",
                             parameters={"PayloadBucketName": bucket})
    payload = (PATTERNS / "lambda-s3-async-lambda" / "payload" / "payload-large.json").read_bytes()
    s3 = boto3.client("s3")
    s3.put_object(Bucket=bucket, Key="notes/other.json", Body=b"{}")        # no MyPayload_ prefix: no event
    s3.put_object(Bucket=bucket, Key="MyPayload_20260101000000.json", Body=payload)
    [call] = wait_for(lambda: invocations, timeout=30)
    assert call["function"] == "AsynchronousFunction" and call["error_type"] is None
    assert call["event"]["Records"][0]["s3"]["object"]["key"] == "MyPayload_20260101000000.json"
    assert wait_for(lambda: [r for r in caplog.records if r.getMessage().endswith("\tS3 trigger event")], timeout=10)
    # Both objects were delivered or filtered by now (moto notifies on put): still the one invocation.
    s3.put_object(Bucket=bucket, Key="MyPayload_second.json", Body=b'{"a": 1}')
    wait_for(lambda: len(invocations) == 2, timeout=30)
    assert [c["event"]["Records"][0]["s3"]["object"]["key"] for c in invocations] == [
        "MyPayload_20260101000000.json", "MyPayload_second.json"]


def test_send_payload_function_invokes_the_asynchronous_function_through_the_lambda_api(start_cloud, caplog):
    # The pattern's main path: SendPayloadFunction calls lambda:Invoke (Event) on AsynchronousFunction, or, when the
    # payload is over the Event quota (1 MB), writes it to the bucket, whose prefix rule triggers the same function.
    caplog.set_level("INFO", logger="fn.AsynchronousFunction")
    bucket = f"payloads-{uuid.uuid4().hex[:12]}"
    cloud, invocations = run(start_cloud, PATTERNS / "lambda-s3-async-lambda",
                             parameters={"PayloadBucketName": bucket})
    client = boto3.client("lambda", endpoint_url=cloud.lambda_api.url)   # as `aws lambda invoke` would
    answer = client.invoke(FunctionName="SendPayloadFunction", Payload=json.dumps({"key": "value"}))
    assert answer["StatusCode"] == 200 and "FunctionError" not in answer
    result = json.loads(answer["Payload"].read())
    assert result["statusCode"] == 200 and json.loads(result["body"])["StatusCode"] == 202    # Event: accepted
    # The function's async branch runs json.loads on the event, already a dict: a TypeError, as on AWS, so Lambda's
    # asynchronous invocation tries it three times.
    calls = wait_for(lambda: [c for c in invocations if c["function"] == "AsynchronousFunction"][:3]
                     if len([c for c in invocations if c["function"] == "AsynchronousFunction"]) >= 3 else None,
                     timeout=30)
    assert [(c["trigger"], c["event"], c["error_type"]) for c in calls] == [
        ("lambda:event", {"key": "value"}, "TypeError")] * 3
    assert [r for r in caplog.records if r.getMessage().endswith("\tAsync invoke event")]
    # Over 1 MB: RequestEntityTooLargeException, so the payload goes through S3 and the function reads it back.
    large = {"items": ["x" * 1000] * 1100}
    answer = client.invoke(FunctionName="SendPayloadFunction", Payload=json.dumps(large))
    assert "FunctionError" not in answer
    assert json.loads(json.loads(answer["Payload"].read())["body"])["ResponseMetadata"]["HTTPStatusCode"] == 200
    [s3_call] = wait_for(lambda: [c for c in invocations if c["trigger"] == f"s3:{bucket}"], timeout=30)
    assert s3_call["error_type"] is None
    assert s3_call["event"]["Records"][0]["s3"]["object"]["key"].startswith("MyPayload_")


def test_items_put_through_the_api_reach_the_stream_consumer(start_cloud):
    cloud, invocations = run(start_cloud, PATTERNS / "apigw-lambda-dynamodb-stream-lambda")
    url = cloud.stack.outputs()["EndpointUrl"]
    item = {"id": "1", "name": "Widget", "description": "a test item", "customer": "Alice"}
    answer = requests.post(url + "/", json=item, timeout=20)
    assert answer.status_code == 200 and answer.text == "Successfully inserted data!"
    [call] = wait_for(lambda: [c for c in invocations if c["function"] == "ConsumerFunction"], timeout=30)
    [record] = call["event"]["Records"]
    assert call["error_type"] is None and record["eventName"] == "INSERT"
    assert record["dynamodb"]["NewImage"] == {k: {"S": v} for k, v in item.items()}
    assert record["dynamodb"]["StreamViewType"] == "NEW_IMAGE" and "OldImage" not in record["dynamodb"]


def test_scheduled_function_runs_on_its_rate(start_cloud):
    # rate(1 minute), run 50 times faster
    cloud, invocations = run(start_cloud, PATTERNS / "eventbridge-scheduled-lambda", rate_scale=0.02)
    calls = wait_for(lambda: invocations if len(invocations) >= 2 else None, timeout=30)
    assert {c["trigger"] for c in calls} == {"schedule:ScheduledFunction"}
    assert calls[0]["event"]["detail-type"] == "Scheduled Event" and calls[0]["error_type"] is None


def test_scheduler_schedule_of_the_template_invokes_its_target(start_cloud):
    # AWS::Scheduler::Schedule, rate(5 minutes), run 200 times faster
    cloud, invocations = run(start_cloud, PATTERNS / "eventbridge-schedule-to-lambda-dlq-sam-python",
                             rate_scale=0.005)
    calls = wait_for(lambda: invocations if len(invocations) >= 2 else None, timeout=30)
    assert {c["trigger"] for c in calls} == {"schedule:EventSchedule"}
    assert cloud.stack.outputs()["ScheduleArn"].endswith(f":schedule/default/{cloud.stack_name}-schedule")
    assert calls[0]["function"] == "ScheduledFunction" and calls[0]["event"] == {}
    assert calls[0]["error_type"] is None
    # What the local cloud does not apply is said at start-up.
    assert "property DeadLetterQueue of ScheduledFunction (AWS::Serverless::Function) is not applied locally" \
        in cloud.not_emulated
    assert [line for line in cloud.not_emulated if "EventSchedule" in line and "RetryPolicy" in line]


def test_fifo_failure_goes_to_the_dlq_and_a_move_task_redrives_it_to_the_reprocess_queue(start_cloud, caplog):
    caplog.set_level("INFO", logger="fn.ReProcessQueueFunction")
    # The queue's 30 s visibility timeout brings a failed message back (and so to the DLQ): 1 s here.
    cloud, invocations = run(start_cloud, PATTERNS / "fifo-sqs-redrive",
                             queue_attributes={"MyOriginalQueue": {"VisibilityTimeout": "1"}})
    sqs = boto3.client("sqs")
    original, dlq = cloud.stack.outputs()["MyOriginalQueueUrl"], cloud.physical_id("MyDeadLetterQueue")
    body = json.dumps({"id": 123, "name": "John", "data": {"age": 30, "job": "Developer"}})
    sqs.send_message(QueueUrl=original, MessageBody=body, MessageGroupId="group1")
    sqs.send_message(QueueUrl=original, MessageBody=body, MessageGroupId="group1")   # deduplicated by content

    def dlq_depth():
        return int(sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"]["ApproximateNumberOfMessages"])
    wait_for(lambda: dlq_depth() == 1, timeout=30)
    failed = [c for c in invocations if c["function"] == "MyOriginalQueueFunction"]
    assert failed and all(c["error_type"] == "Exception" for c in failed)
    assert {r["body"] for c in failed for r in c["event"]["Records"]} == {body}

    task = sqs.start_message_move_task(SourceArn=cloud.stack.outputs()["MyDeadLetterQueueArn"],
                                       DestinationArn=cloud.stack.outputs()["MyReProcessQueueArn"])
    assert task["TaskHandle"]
    [call] = wait_for(lambda: [c for c in invocations if c["function"] == "ReProcessQueueFunction"], timeout=30)
    assert call["error_type"] is None and call["event"]["Records"][0]["body"] == body
    assert call["event"]["Records"][0]["attributes"]["MessageGroupId"] == "group1"
    assert dlq_depth() == 0


def drain(sqs, url):
    """Delete whatever a queue holds (PurgeQueue is allowed once a minute)."""
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_the_consoles_redrive_of_a_fifo_dlq_keeps_the_message_group(start_cloud):
    from localcloud.console.resources import Resources
    cloud, invocations = run(start_cloud, PATTERNS / "fifo-sqs-redrive",
                             queue_attributes={"MyOriginalQueue": {"VisibilityTimeout": "1"}})
    sqs = boto3.client("sqs")
    dlq = cloud.physical_id("MyDeadLetterQueue")
    drain(sqs, dlq)
    body = json.dumps({"id": uuid.uuid4().hex})

    def in_dlq():
        return sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"]["ApproximateNumberOfMessages"] == "1"
    sqs.send_message(QueueUrl=cloud.physical_id("MyOriginalQueue"), MessageBody=body, MessageGroupId="g7")
    wait_for(in_dlq, timeout=30)
    before = len(invocations)
    # moved back to the FIFO source queue (content-based deduplication: the same body within 5 minutes)
    assert Resources(cloud).redrive("MyDeadLetterQueue") == 1
    [again, *_] = wait_for(lambda: invocations[before:], timeout=30)
    [record] = again["event"]["Records"]
    assert again["function"] == "MyOriginalQueueFunction" and record["body"] == body
    assert record["attributes"]["MessageGroupId"] == "g7"
    # it fails again, back to the DLQ: emptied, as the template names its queues and other tests use them
    wait_for(in_dlq, timeout=30)
    drain(sqs, dlq)


def test_producer_records_reach_the_consumer_through_the_kinesis_stream(start_cloud, caplog):
    caplog.set_level("INFO", logger="fn.ConsumerFunction")
    stream = f"data-{uuid.uuid4().hex[:12]}"
    cloud, invocations = run(start_cloud, PATTERNS / "lambda-kinesis-lambda", parameters={"KinesisStreamName": stream})
    assert not [line for line in cloud.not_emulated if "Kinesis" in line]
    assert cloud.invoke("ProducerFunction", {}) == {"statusCode": 200, "body": "Successfully posted"}
    [call] = wait_for(lambda: [c for c in invocations if c["function"] == "ConsumerFunction"], timeout=30)
    [record] = call["event"]["Records"]
    assert call["error_type"] is None and call["trigger"] == "kinesis:KinesisStream"
    assert record["eventSource"] == "aws:kinesis" and record["kinesis"]["partitionKey"] == "Property11"
    assert record["eventSourceARN"] == f"arn:aws:kinesis:us-east-1:123456789012:stream/{stream}"
    data = json.loads(base64.b64decode(record["kinesis"]["data"]))
    assert data["property_id"] == "Property11" and 40 <= int(data["prop"]) <= 120
    assert wait_for(lambda: [r for r in caplog.records if r.getMessage() == "Decoded data: " + json.dumps(data)],
                    timeout=10)
    # more records, read in the order they were put (a batch may carry several)
    kinesis = boto3.client("kinesis")
    for n in range(3):
        kinesis.put_record(StreamName=stream, Data=json.dumps({"n": n}).encode(), PartitionKey="p")
    batches = wait_for(lambda: [c for c in invocations if c["function"] == "ConsumerFunction"][1:]
                       if sum(len(c["event"]["Records"]) for c in invocations
                              if c["function"] == "ConsumerFunction") >= 4 else None, timeout=30)
    assert [json.loads(base64.b64decode(r["kinesis"]["data"])) for c in batches for r in c["event"]["Records"]] == [
        {"n": 0}, {"n": 1}, {"n": 2}]
