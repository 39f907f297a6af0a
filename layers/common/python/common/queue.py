"""Putting messages on an SQS queue, one way for every product: SendMessageBatch (10 per call, batches in
parallel), entries SQS reports Failed sent again with exponential backoff and full jitter, a bounded number of
times. A product's messages are built by its own typed module (chalicelib/queue_messages.py); this module
only carries their JSON text.
"""
import json
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

BATCH = 10                 # SQS's limit per SendMessageBatch
WORKERS = 8                # parallel calls: SQS answers in ~10-20 ms, so 8 calls in flight fill a 1,000-call job
ATTEMPTS = 4               # tries per entry that SQS reports Failed (SenderFault=false)
BACKOFF_BASE, BACKOFF_CAP = 0.05, 1.0

_lock = threading.Lock()
_client = None


class BadMessage(ValueError):
    """A queue body that is none of the product's messages: the handler logs and drops it (sending it again
    would not make it readable). Every product's queue_messages raises this one type."""


def decode(text):
    """A message body's JSON object; BadMessage when it is not JSON or not an object."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        raise BadMessage("not JSON") from None
    if not isinstance(value, dict):
        raise BadMessage("not a JSON object")
    return value


def received(record, parse, *kinds):
    """The message an SQS record carries (parse(body), one of kinds when given), or None when it is unusable:
    logged with the record's id and dropped, since sending it again would not make it readable."""
    try:
        message = parse(record["body"])
    except BadMessage as exc:
        _log().error("dropping an unusable message", message_id=record.get("messageId"), reason=str(exc))
        return None
    if kinds and not isinstance(message, kinds):
        _log().error("dropping a message of another queue", message_id=record.get("messageId"),
                     kind=type(message).__name__)
        return None
    return message


def _log():
    from .log import get_logger     # powertools is imported only by the workers that read queues
    return get_logger("common.queue")


class SendError(Exception):
    """Some messages could not be queued: `failed` is {key: reason}."""

    def __init__(self, failed):
        super().__init__(f"{len(failed)} message(s) could not be queued: {next(iter(failed.values()), '')}")
        self.failed = failed


def client():
    """The process's SQS client (endpoint from the environment), its pool as large as the thread pool."""
    global _client
    with _lock:
        if _client is None:
            _client = boto3.session.Session().client(
                "sqs", config=Config(max_pool_connections=WORKERS * 2, retries={"mode": "standard"},
                                     connect_timeout=5, read_timeout=20))
        return _client


def backoff(attempt, rng=random):
    """Full jitter: a random wait up to base * 2^attempt, capped."""
    return rng.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** attempt))


def body(value):
    """A message body: dicts as compact JSON, text as it is."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def send(queue_url, message, delay_seconds=0, sqs=None):
    """Queue one message; raises SendError when it could not be queued."""
    send_all(queue_url, [("message", message, delay_seconds)], sqs=sqs, strict=True)


def send_all(queue_url, messages, sqs=None, strict=False, sleep=time.sleep):
    """Send [(key, message, delay_seconds)]; returns {key: reason} for the messages that could not be sent
    (strict=True raises SendError instead)."""
    sqs = sqs or client()
    batches = [messages[i:i + BATCH] for i in range(0, len(messages), BATCH)]
    if len(batches) <= 1:
        results = [_send_batch(sqs, queue_url, b, sleep) for b in batches]
    else:
        with ThreadPoolExecutor(min(WORKERS, len(batches))) as pool:
            results = list(pool.map(lambda b: _send_batch(sqs, queue_url, b, sleep), batches))
    failed = {}
    for result in results:
        failed.update(result)
    if failed and strict:
        raise SendError(failed)
    return failed


def _send_batch(sqs, queue_url, batch, sleep):
    """One batch, re-sending the entries SQS reports Failed; returns {key: reason} of the ones that never went."""
    pending = {str(i): item for i, item in enumerate(batch)}
    failed, last_reason = {}, {}
    for attempt in range(ATTEMPTS):
        if attempt:
            sleep(backoff(attempt))
        entries = [{"Id": entry_id, "MessageBody": body(message), "DelaySeconds": int(delay or 0)}
                   for entry_id, (_key, message, delay) in pending.items()]
        try:
            resp = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        except (BotoCoreError, ClientError) as exc:
            # botocore already retried throttling and 5xx; what is left is an outage for this batch.
            failed.update({key: f"queue unavailable: {exc}" for key, _message, _delay in pending.values()})
            return failed
        retry = {}
        for failure in resp.get("Failed", []):
            key = pending[failure["Id"]][0]
            reason = f"{failure.get('Code', 'Failed')}: {failure.get('Message', '')}".strip(": ")
            if failure.get("SenderFault"):
                failed[key] = reason           # our request is wrong: sending it again cannot help
            else:
                retry[failure["Id"]] = pending[failure["Id"]]
                last_reason[key] = reason
        pending = retry
        if not pending:
            return failed
    for key, _message, _delay in pending.values():
        failed[key] = last_reason[key]
    return failed
