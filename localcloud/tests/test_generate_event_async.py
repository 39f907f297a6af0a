"""`localcloud generate-event sns|s3|eventbridge|dynamodb`: the events the asynchronous sources deliver."""
import json
import os
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]    # localcloud/: what `pip install -e` puts on the path
ENV = dict(os.environ, PYTHONPATH=str(PACKAGE))


def generate(*args):
    done = subprocess.run([sys.executable, "-m", "localcloud", "generate-event", *args], cwd=PACKAGE, env=ENV,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_sns_event():
    event = generate("sns", "--message", "hi", "--subject", "s", "--topic", "news", "--attribute", "kind=a")
    [record] = event["Records"]
    assert record["EventSource"] == "aws:sns" and record["EventSubscriptionArn"].startswith(
        "arn:aws:sns:us-east-1:123456789012:news:")
    sns = record["Sns"]
    assert sns["Message"] == "hi" and sns["Subject"] == "s" and sns["TopicArn"].endswith(":news")
    assert sns["MessageAttributes"] == {"kind": {"Type": "String", "Value": "a"}}


def test_s3_event_url_encodes_the_key():
    event = generate("s3", "--bucket", "b", "--key", "a dir/x.csv", "--event-name", "ObjectRemoved:Delete")
    [record] = event["Records"]
    assert record["eventSource"] == "aws:s3" and record["eventName"] == "ObjectRemoved:Delete"
    assert record["s3"]["bucket"]["name"] == "b" and record["s3"]["object"]["key"] == "a+dir%2Fx.csv"


def test_eventbridge_event_and_a_bad_detail():
    event = generate("eventbridge", "--source", "shop", "--detail-type", "OrderPlaced", "--detail", '{"amount": 5}')
    assert event["source"] == "shop" and event["detail-type"] == "OrderPlaced" and event["detail"] == {"amount": 5}
    assert event["account"] == "123456789012" and event["region"] == "us-east-1"
    done = subprocess.run([sys.executable, "-m", "localcloud", "generate-event", "eventbridge", "--detail", "{nope"],
                          cwd=PACKAGE, env=ENV, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "--detail is not JSON" in done.stderr


def test_dynamodb_stream_record():
    event = generate("dynamodb", "--table", "orders", "--event-name", "MODIFY", "--keys", '{"id": "o1"}',
                     "--new-image", '{"id": "o1", "qty": 3, "price": 2.5, "tags": ["a"]}')
    [record] = event["Records"]
    assert record["eventSource"] == "aws:dynamodb" and record["eventName"] == "MODIFY"
    assert record["eventSourceARN"].startswith("arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/")
    data = record["dynamodb"]
    assert data["Keys"] == {"id": {"S": "o1"}} and data["OldImage"] == {"id": {"S": "o1"}}
    assert data["NewImage"] == {"id": {"S": "o1"}, "qty": {"N": "3"}, "price": {"N": "2.5"},
                                "tags": {"L": [{"S": "a"}]}}
    done = subprocess.run([sys.executable, "-m", "localcloud", "generate-event", "dynamodb", "--keys", "{nope"],
                          cwd=PACKAGE, env=ENV, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "--keys is not JSON" in done.stderr
