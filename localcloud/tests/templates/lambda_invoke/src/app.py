"""Caller invokes the function an event names, as a function would on AWS; the others answer or fail."""
import json
import os

import boto3
from botocore.exceptions import ClientError

LAMBDA = boto3.client("lambda")      # built at import, with no endpoint_url: the environment names it


def call(event, context):
    target = os.environ["ECHO_ARN"] if event["target"] == "echo-arn" else event["target"]
    try:
        answer = LAMBDA.invoke(FunctionName=target, InvocationType=event.get("type", "RequestResponse"),
                               Payload=json.dumps(event.get("payload", {})))
    except ClientError as exc:
        return {"code": exc.response["Error"]["Code"], "message": exc.response["Error"]["Message"]}
    text = answer["Payload"].read()
    return {"status": answer["StatusCode"], "error": answer.get("FunctionError"),
            "payload": json.loads(text) if text else None}


def echo(event, context):
    return {"got": event, "name": context.function_name}


def fails(event, context):
    raise ValueError(f"no: {event}")
