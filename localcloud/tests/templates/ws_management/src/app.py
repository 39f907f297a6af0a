"""Pushes a message back to the caller's connection through a Management API endpoint built from the event."""
import json
import os

import boto3
from botocore.config import Config

QUICK = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 1})


def endpoint(shape, context):
    if shape == "domain":
        return f"https://{context['domainName']}/{context['stage']}"
    return f"https://{context['apiId']}.execute-api.{os.environ['AWS_REGION']}.amazonaws.com/{context['stage']}"


def push_back(event, context):
    """Body {"shape": "domain" | "aws"}: posts "via <shape>" to the caller; a failed post answers its error."""
    shape = json.loads(event["body"])["shape"]
    url = endpoint(shape, event["requestContext"])
    # a session of its own (as a library that makes one would) for one shape, boto3's default one for the other
    session = boto3.session.Session() if shape == "domain" else boto3
    api = session.client("apigatewaymanagementapi", endpoint_url=url, config=QUICK)
    try:
        api.post_to_connection(ConnectionId=event["requestContext"]["connectionId"], Data=f"via {shape}".encode())
    except Exception as exc:
        return {"statusCode": 500, "body": f"{url} failed: {type(exc).__name__}"}
    return {"statusCode": 200}
