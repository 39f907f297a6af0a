"""Keep the SQS records a handler is working on invisible while the work is alive, and only then.

A queue's VisibilityTimeout must be at least the function's timeout (Lambda refuses the event source
mapping otherwise), so on its own it brings a dead worker's message back only after many minutes. A
heartbeat shortens each record's visibility to `Policy.visibility` seconds as soon as the work starts and
renews it every `Policy.interval` seconds from a daemon thread: while the process lives the record stays
hidden however long the work takes; when the process dies (killed, out of memory, timed out) the beats
stop and the record is visible again within `visibility` seconds. The queue's own long timeout stays as
the backstop if even the first beat cannot reach SQS.

Use it through `common.batch.process(event, handler, heartbeat=True)`; `Heartbeat` is the machinery.
"""
import functools
import os
import threading
import time
from dataclasses import dataclass
from typing import Optional

import boto3
from botocore.config import Config

from .log import get_logger

log = get_logger("common.heartbeat")

SQS_MAX_VISIBILITY = 43200  # SQS refuses to keep a message invisible beyond 12 h after its receive
# The heartbeat starts a little after SQS handed the record out (Lambda's batching window is at most
# 300 s): count that much more as already spent of the 12 h.
RECEIVE_SLACK = 330
CHANGE_BATCH = 10           # ChangeMessageVisibilityBatch takes at most 10 entries
# Entries SQS will never take again: the message was deleted or its receipt is stale (it was received
# by someone else after an earlier beat came too late). Beating them again only repeats the warning.
GONE_CODES = {"ReceiptHandleIsInvalid", "MessageNotInflight", "InvalidParameterValue"}


@dataclass(frozen=True)
class Policy:
    """visibility: seconds a dead worker's record stays hidden; interval: seconds between beats
    (default a third of visibility, so two beats may fail in a row before the record shows again);
    first: seconds before the first beat. 0 by default: the first beat is made before the work starts (one
    ChangeMessageVisibilityBatch per batch and queue), since until it lands only the queue's own long timeout
    covers a death, and a short batch (most of broadcast's) is killed in its first second as likely as later."""
    visibility: float = 60
    interval: Optional[float] = None
    first: float = 0.0

    @property
    def every(self):
        return self.interval if self.interval is not None else self.visibility / 3


DEFAULT = Policy()


@functools.lru_cache(maxsize=None)
def _client(endpoint):
    # Its own client with short timeouts: a beat must not hang on a slow SQS for botocore's default 60 s
    # while the record's visibility runs out, and the handler waits for a beat in flight when it settles
    # a record (see Heartbeat.release). boto3 reads AWS_ENDPOINT_URL itself; `endpoint` keys the cache.
    del endpoint
    return boto3.session.Session().client(
        "sqs", config=Config(connect_timeout=3, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"}))


def sqs():
    return _client(os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL_SQS"))


@functools.lru_cache(maxsize=256)
def _queue_url(endpoint, arn):
    del endpoint
    _, _, _, _, account, name = arn.split(":", 5)
    return sqs().get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]


def queue_url(arn):
    """The URL of the queue an SQS ARN (arn:aws:sqs:region:account:name) names, asked of SQS once per
    process and queue so it fits any endpoint (AWS, moto)."""
    return _queue_url(os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL_SQS"), arn)


class Heartbeat:
    """Beats for `records` (SQS event records: eventSourceARN + receiptHandle) from start() to stop().

    release(record) ends the beats of one record (e.g. before its visibility is set for a retry); it
    waits for a beat in flight, so no beat overwrites what the caller sets afterwards."""

    def __init__(self, records, policy=DEFAULT, clock=time.monotonic):
        self.policy = policy
        self.clock = clock
        self._records = {r["receiptHandle"]: r for r in records if r.get("receiptHandle") and r.get("eventSourceARN")}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
        self._started = None
        self.created = time.time()  # epoch seconds (common.batch counts SQS's 12 h from no later than this)
        self.beats = 0

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        self._started = self.clock()
        if not self._records:
            return
        if self.policy.first <= 0:
            self._beat_logged()
        self._thread = threading.Thread(target=self._run, name="sqs-heartbeat", daemon=True)
        self._thread.start()

    def stop(self):
        """No beat after this returns (one in flight is waited for)."""
        self._stop.set()
        with self._lock:
            self._records = {}
        if self._thread is not None:
            self._thread.join(10)

    def release(self, record):
        with self._lock:
            self._records.pop(record.get("receiptHandle"), None)

    def timeout(self):
        """Seconds to ask for now: the policy's visibility, never past SQS's 12 h from the receive;
        0 once that is spent (then the record is left to its current visibility)."""
        spent = self.clock() - self._started + RECEIVE_SLACK
        return max(0, int(min(self.policy.visibility, SQS_MAX_VISIBILITY - spent)))

    def _run(self):
        first = self.policy.first if self.policy.first > 0 else self.policy.every  # 0: made by start()
        if self._stop.wait(min(first, self.policy.every)):
            return
        while not self._stop.is_set():
            self._beat_logged()
            if self._stop.wait(self.policy.every):
                return

    def _beat_logged(self):
        try:
            self.beat()
        except Exception:  # noqa: BLE001 - a missed beat is retried at the next one; never kill the work
            log.warning("heartbeat failed; retrying at the next beat", exc_info=True)

    def beat(self):
        """Extend every record still held; returns how many SQS accepted."""
        with self._lock:
            if self._stop.is_set() or not self._records:
                return 0
            seconds = self.timeout()
            if seconds <= 0:
                log.warning("heartbeat stops: SQS keeps a message at most 12 h after its receive",
                            records=len(self._records))
                self._records = {}
                return 0
            by_queue = {}
            for record in self._records.values():
                by_queue.setdefault(record["eventSourceARN"], []).append(record)
            accepted = 0
            for arn, records in by_queue.items():
                accepted += self._extend(queue_url(arn), records, seconds)
            self.beats += 1
            return accepted

    def _extend(self, url, records, seconds):
        accepted = 0
        for start in range(0, len(records), CHANGE_BATCH):
            chunk = records[start:start + CHANGE_BATCH]
            response = sqs().change_message_visibility_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": r["receiptHandle"], "VisibilityTimeout": seconds}
                for i, r in enumerate(chunk)])
            accepted += len(response.get("Successful", []))
            for failure in response.get("Failed", []):
                record = chunk[int(failure["Id"])]
                log.warning("heartbeat refused for a record", message_id=record.get("messageId"),
                            code=failure.get("Code"), reason=failure.get("Message"))
                if failure.get("Code") in GONE_CODES:
                    self._records.pop(record["receiptHandle"], None)
        return accepted
