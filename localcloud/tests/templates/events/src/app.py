"""Handlers that record the events they get in RECORD_DIR/<function name>/, one JSON file each."""
import json
import os
import time
import uuid


def _record(event, context):
    folder = os.path.join(os.environ["RECORD_DIR"], context.function_name)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{time.time():.6f}-{uuid.uuid4().hex[:6]}.json")
    with open(path + ".tmp", "w") as out:
        json.dump(event, out)
    os.rename(path + ".tmp", path)


def record(event, context):
    _record(event, context)
    return {"ok": True}


def flaky(event, context):
    """Fails the first two attempts of each message (counted in RECORD_DIR/attempts/), then records it."""
    message_id = event["Records"][0]["Sns"]["MessageId"]
    folder = os.path.join(os.environ["RECORD_DIR"], "attempts", message_id)
    os.makedirs(folder, exist_ok=True)
    attempt = len(os.listdir(folder)) + 1
    open(os.path.join(folder, str(attempt)), "w").close()
    if attempt < 3:
        raise RuntimeError(f"attempt {attempt} fails on purpose")
    _record(event, context)


def stream_fails_once(event, context):
    """Fails the first delivery of each batch whose first record is new (counted in RECORD_DIR/attempts/), then
    records it: a DynamoDB stream batch is retried in order."""
    event_id = event["Records"][0]["eventID"]
    folder = os.path.join(os.environ["RECORD_DIR"], "attempts", event_id)
    os.makedirs(folder, exist_ok=True)
    attempt = len(os.listdir(folder)) + 1
    open(os.path.join(folder, str(attempt)), "w").close()
    if attempt < 2:
        raise RuntimeError("the first attempt fails on purpose")
    _record(event, context)
