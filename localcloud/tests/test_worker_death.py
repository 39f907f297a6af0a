"""A worker SIGKILLed in the middle of an SQS batch: the local runtime tells the poller at once and the batch
is handled again within seconds, not after the queue's visibility timeout."""
import json
import os
import signal

import boto3
import pytest

from polling import wait_until

pytestmark = pytest.mark.timeout(180)

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  SlowQueue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 600
  SlowFunction:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.11
      CodeUri: app/
      Handler: handler.main
      Timeout: 100
      Environment:
        Variables:
          RECORD_DIR: {record_dir}
      Events:
        Work:
          Type: SQS
          Properties:
            Queue: !GetAtt SlowQueue.Arn
            BatchSize: 1
            FunctionResponseTypes: [ReportBatchItemFailures]
"""

HANDLER = """\
import json, os, time

def main(event, context):
    record = event["Records"][0]
    attempt = int(record["attributes"]["ApproximateReceiveCount"])
    folder = os.environ["RECORD_DIR"]
    if attempt == 1:
        with open(os.path.join(folder, "busy.pid"), "w") as out:
            out.write(str(os.getpid()))
        time.sleep(90)   # killed meanwhile
    with open(os.path.join(folder, "done.json"), "w") as out:
        json.dump({"body": record["body"], "attempt": attempt}, out)
    return {"batchItemFailures": []}
"""


def test_a_worker_killed_mid_batch_has_its_batch_handled_again_at_once(start_cloud, tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "handler.py").write_text(HANDLER)
    (tmp_path / "app" / "requirements.txt").write_text("")
    records = tmp_path / "records"
    records.mkdir()
    template = tmp_path / "template.yaml"
    template.write_text(TEMPLATE.format(record_dir=records))
    cloud = start_cloud(template=template, functions=["SlowFunction"])
    sqs = boto3.client("sqs")
    url = cloud.physical_id("SlowQueue")
    sqs.send_message(QueueUrl=url, MessageBody="job-1")

    pid = int(wait_until(lambda: (records / "busy.pid").exists() and (records / "busy.pid").read_text(),
                         timeout=60, what="the handler busy"))
    os.kill(pid, signal.SIGKILL)
    # The queue hides the message for 600 s: only the runtime's report of the death brings it back here.
    done = wait_until(lambda: (records / "done.json").exists() and json.loads((records / "done.json").read_text()),
                      timeout=60, what="the batch handled again")
    assert done == {"body": "job-1", "attempt": 2}
    poller = next(p for p in cloud.pollers if p.mapping.queue_logical_id == "SlowQueue")
    assert poller.stats["released"] == 1
    wait_until(lambda: poller.stats["deleted"] == 1, what="the message deleted")
