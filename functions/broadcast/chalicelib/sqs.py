"""Put many messages on a queue: SendMessageBatch (10 per call) in parallel, Failed entries retried."""
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

BATCH = 10                 # SQS's limit per SendMessageBatch
WORKERS = 8                # parallel calls: SQS answers in ~10-20 ms, so 8 calls in flight fill a 1,000-call job
ENTRY_ATTEMPTS = 3         # tries per entry that SQS reports Failed (SenderFault=false)
_BACKOFF = (0.05, 0.2)

_lock = threading.Lock()
_client = None


def client():
    """The process's SQS client, with a connection pool as large as the thread pool."""
    global _client
    with _lock:
        if _client is None:
            _client = boto3.session.Session().client(
                "sqs", config=Config(max_pool_connections=WORKERS * 2, retries={"mode": "standard"}))
        return _client


def choose_delays(count, delay_range, rng=random):
    """count random DelaySeconds values, each uniform in delay_range (inclusive)."""
    low, high = delay_range
    return [rng.randint(low, high) for _ in range(count)]


def send_all(queue_url, messages, sqs=None):
    """Send [(key, body, delay_seconds)]; returns {key: reason} for the messages that could not be sent."""
    sqs = sqs or client()
    batches = [messages[i:i + BATCH] for i in range(0, len(messages), BATCH)]
    if len(batches) <= 1:
        results = [_send_batch(sqs, queue_url, b) for b in batches]
    else:
        with ThreadPoolExecutor(min(WORKERS, len(batches))) as pool:
            results = list(pool.map(lambda b: _send_batch(sqs, queue_url, b), batches))
    failed = {}
    for result in results:
        failed.update(result)
    return failed


def _send_batch(sqs, queue_url, batch):
    """One batch, re-sending the entries SQS reports Failed; returns {key: reason} of the ones that never went."""
    pending = {str(i): item for i, item in enumerate(batch)}
    failed, last_reason = {}, {}
    for attempt in range(ENTRY_ATTEMPTS):
        if attempt:
            time.sleep(_BACKOFF[min(attempt - 1, len(_BACKOFF) - 1)])
        entries = [{"Id": entry_id, "MessageBody": body, "DelaySeconds": delay}
                   for entry_id, (_key, body, delay) in pending.items()]
        try:
            resp = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        except (BotoCoreError, ClientError) as exc:
            # botocore already retried throttling and 5xx; what is left is an outage for this batch.
            failed.update({key: f"queue unavailable: {exc}" for key, _body, _delay in pending.values()})
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
    for key, _body, _delay in pending.values():
        failed[key] = last_reason[key]
    return failed
