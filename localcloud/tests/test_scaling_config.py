"""ScalingConfig.MaximumConcurrency of an SQS event source: that many batches in flight at once, no more."""
import glob
import json
import time
from pathlib import Path

import boto3

APP = Path(__file__).resolve().parent / "app"
TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 30
  HoldFunction:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.11
      CodeUri: {app}
      Handler: handlers.hold
      Timeout: 5
      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt Jobs.Arn
            BatchSize: 1
            ScalingConfig:
              MaximumConcurrency: 2
"""


def test_maximum_concurrency_runs_that_many_batches_at_once(start_cloud, tmp_path):
    template = tmp_path / "template.yaml"
    template.write_text(TEMPLATE.format(app=APP))
    records = tmp_path / "records"
    cloud = start_cloud(template=template, env={"RECORD_DIR": str(records)})
    assert [p.concurrency for p in cloud.pollers] == [2]
    sqs = boto3.client("sqs")
    sqs.send_message_batch(QueueUrl=cloud.physical_id("Jobs"),
                           Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(6)])
    deadline = time.time() + 30
    while len(glob.glob(str(records / "hold" / "*.json"))) < 6:
        assert time.time() < deadline, "the six messages were not all processed"
        time.sleep(0.1)
    spans = [json.loads(Path(p).read_text())["payload"] for p in glob.glob(str(records / "hold" / "*.json"))]
    overlap = max(sum(1 for other in spans if other["start"] <= span["start"] < other["end"]) for span in spans)
    assert overlap == 2
