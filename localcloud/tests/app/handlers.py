"""Tiny handlers for the local cloud's own tests: each records what it saw in RECORD_DIR."""
import base64
import json
import os
import time
import uuid

import boto3


def _record(kind, payload):
    folder = os.path.join(os.environ["RECORD_DIR"], kind)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{time.time():.6f}-{uuid.uuid4().hex[:6]}.json")
    with open(path + ".tmp", "w") as out:
        json.dump({"at": time.time(), "payload": payload}, out)
    os.rename(path + ".tmp", path)


def http_echo(event, context):
    """REST API v1: answer with what the gateway sent."""
    if event["path"].endswith("/binary"):
        return {"statusCode": 200, "headers": {"Content-Type": "image/png"}, "isBase64Encoded": True,
                "body": base64.b64encode(bytes(range(256))).decode()}
    body = event["body"]
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).hex()
    return {"statusCode": 201, "headers": {"Content-Type": "application/json", "X-Fn": context.function_name},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": json.dumps({"resource": event["resource"], "path": event["path"], "method": event["httpMethod"],
                                "params": event["pathParameters"], "query": event["multiValueQueryStringParameters"],
                                "body": body, "b64": event["isBase64Encoded"], "env": os.environ.get("GREETING"),
                                "remaining": context.get_remaining_time_in_millis()})}


def http_v2(event, context):
    """HTTP API v2: a bare dict becomes a JSON 200."""
    return {"version": event["version"], "routeKey": event["routeKey"], "params": event.get("pathParameters")}


def crash(event, context):
    """Always fails."""
    raise ValueError("boom")


def slow(event, context):
    """Sleeps past its Timeout."""
    time.sleep(30)


def hold(event, context):
    """Holds its execution environment for half a second, recording when it ran."""
    started = time.time()
    time.sleep(0.5)
    _record("hold", {"start": started, "end": time.time()})
    return {"statusCode": 200, "body": "held"}


def die_leaving_a_child(event, context):
    """Forks a long-lived child (it inherits the runtime's pipes), records its pid, then is killed."""
    child = os.fork()
    if child == 0:
        time.sleep(60)
        os._exit(0)
    _record("dying", {"child": child})
    os.kill(os.getpid(), 9)


def on_sqs(event, context):
    """Fails the whole batch if any body is 'fail'; records each message."""
    for record in event["Records"]:
        _record("sqs", {"body": record["body"], "count": record["attributes"]["ApproximateReceiveCount"],
                        "keys": sorted(record)})
    if any(r["body"] == "fail" for r in event["Records"]):
        raise RuntimeError("a message asked to fail")


def on_sqs_partial(event, context):
    """Reports the records whose body starts with 'fail' as failed."""
    failures = []
    for record in event["Records"]:
        _record("partial", {"body": record["body"], "id": record["messageId"]})
        if record["body"].startswith("fail"):
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def on_schedule(event, context):
    """Records the scheduled event."""
    _record("schedule", event)


def ws_connect(event, context):
    """Rejects ?token=bad; records the connection."""
    query = event.get("queryStringParameters") or {}
    if query.get("token") == "bad":
        return {"statusCode": 403}
    _record("ws", {"route": "$connect", "id": event["requestContext"]["connectionId"]})
    return {"statusCode": 200}


def ws_message(event, context):
    """'whoami' answers with the connection id; anything else is echoed."""
    body = json.loads(event.get("body") or "{}")
    if body.get("action") == "whoami":
        return {"statusCode": 200, "body": json.dumps({"connectionId": event["requestContext"]["connectionId"]})}
    return {"statusCode": 200, "body": json.dumps({"echo": body, "route": event["requestContext"]["routeKey"]})}


def push(event, context):
    """Pushes data to a connection through the management API, as product code does."""
    api = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["WS_MANAGEMENT_ENDPOINT"])
    try:
        api.post_to_connection(ConnectionId=event["connectionId"], Data=event["data"].encode())
        return "sent"
    except api.exceptions.GoneException:
        return "gone"
