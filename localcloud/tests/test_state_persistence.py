"""`make run` restarted: S3 objects (every version), queued messages (delayed and in-flight ones too) and
secrets are still there. Each run is its own process, as two `make run`s are."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1]    # localcloud/: what `pip install -e` puts on the path
TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Files:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "${AWS::StackName}-files"
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 600
"""
SCRIPT = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    import boto3
    from localcloud.cloud import Cloud
    template, state, phase, notes = sys.argv[1:5]
    cloud = Cloud(template, stack_name="keep", state_dir=Path(state)).start()
    s3 = boto3.client("s3", endpoint_url=cloud.aws_endpoint, region_name="us-east-1")
    sqs = boto3.client("sqs", endpoint_url=cloud.aws_endpoint, region_name="us-east-1")
    sm = boto3.client("secretsmanager", endpoint_url=cloud.aws_endpoint, region_name="us-east-1")
    bucket, queue = cloud.physical_id("Files"), cloud.physical_id("Jobs")
    out = {}
    if phase == "fill":
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        out["versions"] = [s3.put_object(Bucket=bucket, Key="report.py", Body=body)["VersionId"]
                           for body in (b"one", b"two")]
        s3.put_object(Bucket=bucket, Key="big.bin", Body=bytes(range(256)) * 4096)
        sqs.send_message(QueueUrl=queue, MessageBody="visible")
        sqs.send_message(QueueUrl=queue, MessageBody="in flight")
        sqs.send_message(QueueUrl=queue, MessageBody="delayed", DelaySeconds=900)
        got = []
        while not got:
            for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1
                                         ).get("Messages", []):
                if m["Body"] == "in flight":
                    got.append(m)
                else:  # put back anything else at once
                    sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"],
                                                  VisibilityTimeout=0)
        out["handle"] = got[0]["ReceiptHandle"]
        sm.create_secret(Name="keep-chatapp", SecretString="s3cr3t")
    else:
        versions = s3.list_object_versions(Bucket=bucket, Prefix="report.py")["Versions"]
        out["versions"] = sorted(v["VersionId"] for v in versions)
        out["bodies"] = sorted(s3.get_object(Bucket=bucket, Key="report.py", VersionId=v["VersionId"])["Body"].read()
                               .decode() for v in versions)
        out["big"] = s3.get_object(Bucket=bucket, Key="big.bin")["Body"].read() == bytes(range(256)) * 4096
        attrs = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
        out["counts"] = [attrs["ApproximateNumberOfMessages"], attrs["ApproximateNumberOfMessagesNotVisible"],
                         attrs["ApproximateNumberOfMessagesDelayed"]]
        received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
        out["received"] = [m["Body"] for m in received]
        for m in received:
            sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=json.loads(Path(notes).read_text())["handle"])
        attrs = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
        out["in_flight_after_delete"] = attrs["ApproximateNumberOfMessagesNotVisible"]
        out["secret"] = sm.get_secret_value(SecretId="keep-chatapp")["SecretString"]
    cloud.stop()
    Path(notes).write_text(json.dumps(out))
""")


def run(tmp_path, phase):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
               PYTHONPATH=str(PACKAGE))
    notes = tmp_path / f"{phase}.json"
    if phase == "check":
        notes.write_text((tmp_path / "fill.json").read_text())
    subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "template.yaml"), str(tmp_path / "state"), phase,
                    str(notes)], check=True, env=env, cwd=PACKAGE, timeout=120)
    return json.loads(notes.read_text())


@pytest.mark.timeout(180)
def test_objects_messages_and_secrets_survive_a_restart(tmp_path):
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    filled = run(tmp_path, "fill")
    from localcloud.persistence import stack_dir
    state = stack_dir(tmp_path / "state", "keep", tmp_path / "template.yaml")   # kept per stack and template
    assert {"s3.pickle", "secretsmanager.pickle", "sqs.pickle", "scheduler.pickle"} <= {p.name for p in state.iterdir()}
    assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in state.iterdir())
    after = run(tmp_path, "check")
    assert after["versions"] == sorted(filled["versions"])  # the same version ids, both kept
    assert after["bodies"] == ["one", "two"] and after["big"] is True
    assert after["counts"] == ["1", "1", "1"]  # visible, in flight, delayed: each kept as it was
    assert after["received"] == ["visible"]
    assert after["in_flight_after_delete"] == "0"  # the old receipt handle still deletes it
    assert after["secret"] == "s3cr3t"
