"""SQS partial-batch handling for every product: Powertools' BatchProcessor plus a short, jittered retry.

A record handler returns normally when the record is done with (including "unusable, dropped"), and
raises to have it delivered again. A failed record is reported in batchItemFailures AND made visible
again after an exponential backoff with full jitter (ChangeMessageVisibility), so a transient failure
comes back in seconds; the queue's long visibility timeout stays only as the backstop for a crash.
With heartbeat=True a long handler's records are kept hidden only while its process lives (common.heartbeat),
so a crashed worker's records come back within a minute instead of after that long timeout.
"""
import logging
import random
import time

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from . import aws, heartbeat as heartbeats

log = logging.getLogger("common.batch")


class Retry(Exception):
    """Raise from a record handler to have the record delivered again; `delay` (seconds) overrides the
    backoff, e.g. for "busy, come back in 30 s"."""

    def __init__(self, reason="retry later", delay=None):
        super().__init__(reason)
        self.delay = delay


class Backoff:
    """Seconds until the next delivery of a record received `attempt` times: "equal jitter" over
    base * 2^(attempt-1), capped: half of it fixed, half random. The fixed half makes the waits add up
    (1 + 2 + 4 + 8 s before a 5th receive), so a short outage cannot burn through a queue's
    maxReceiveCount and send records to the dead-letter queue; never below `floor`."""

    def __init__(self, base=2.0, cap=300.0, floor=1, rng=random.random):
        self.base, self.cap, self.floor, self.rng = base, cap, floor, rng

    def __call__(self, attempt):
        ceiling = min(self.cap, self.base * 2 ** max(0, attempt - 1))
        return max(self.floor, int(ceiling / 2 + ceiling / 2 * self.rng()))


DEFAULT_BACKOFF = Backoff()
# SQS refuses a ChangeMessageVisibility that would keep a message hidden longer than 12 h in all, counted from the
# receive that handed it out (not from the call): the later in a long batch, the less of the 12 h is left.
SQS_MAX_VISIBILITY = 43200
CLOCK_SKEW = 60  # this host's clock against SQS's (ApproximateFirstReceiveTimestamp is SQS's): asked that much less


def visibility_cap(record, started, now):
    """The longest VisibilityTimeout SQS takes at `now` (epoch seconds) for a record of a batch whose handling
    started at `started`: the 12 h less what has passed since the record's receive, 0 when none is left.

    The event does not carry the moment of this receive; its earliest possible value is the later of the record's
    ApproximateFirstReceiveTimestamp (on a first delivery, that receive itself) and the batch's start less
    common.heartbeat.RECEIVE_SLACK (Lambda's batching window: the records were received at most that long before
    the handler was called)."""
    received = started - heartbeats.RECEIVE_SLACK
    first = (record.get("attributes") or {}).get("ApproximateFirstReceiveTimestamp")
    if first:
        received = max(received, int(first) / 1000)
    return max(0, int(SQS_MAX_VISIBILITY - CLOCK_SKEW - (now - received)))


def attempt_of(record):
    """How many times SQS has delivered this record (1 on the first delivery)."""
    attributes = record.get("attributes") or {}
    return int(attributes.get("ApproximateReceiveCount") or 1)


queue_url = heartbeats.queue_url  # asked of SQS once per process and queue


class _Processor(BatchProcessor):
    def __init__(self, backoff, heartbeat=None, started=None):
        # Not raising when every record failed: each failure is reported (and backed off) one by one.
        super().__init__(EventType.SQS, raise_on_entire_batch_failure=False)
        self.backoff = backoff
        self.heartbeat = heartbeat
        self.started = time.time() if started is None else started  # epoch seconds: the batch's handling began

    def failure_handler(self, record, exception):
        error = exception[1]
        raw = record.raw_event
        attempt = attempt_of(raw)
        delay = error.delay if isinstance(error, Retry) and error.delay is not None else self.backoff(attempt)
        if isinstance(error, Retry):
            log.info("record %s back in %s s: %s", raw.get("messageId"), delay, error)
        else:
            log.error("record %s failed (attempt %s), back in %s s", raw.get("messageId"), attempt, delay,
                      exc_info=exception)
        if self.heartbeat is not None:
            self.heartbeat.release(raw)  # its beats would overwrite the backoff set next
        cap = visibility_cap(raw, self.started, time.time())
        if cap > 0:
            _delay_record(raw, min(int(delay), cap))
        else:  # SQS would refuse any delay: the record comes back when its current visibility ends
            log.warning("record %s: its 12 h of visibility are spent; it returns after its current timeout",
                        raw.get("messageId"))
        entry = ("fail", f"{exception[0]}:{exception[1]}", record)
        self.exceptions.append(exception)
        self.fail_messages.append(record)
        return entry


def _delay_record(raw, seconds):
    try:
        aws.client("sqs").change_message_visibility(QueueUrl=queue_url(raw["eventSourceARN"]),
                                                    ReceiptHandle=raw["receiptHandle"], VisibilityTimeout=seconds)
    except Exception:  # noqa: BLE001 - the visibility timeout still brings the record back, only later
        log.warning("could not shorten the visibility of %s; it returns after the queue's timeout",
                    raw.get("messageId"), exc_info=True)


def process(event, handler, context=None, backoff=DEFAULT_BACKOFF, heartbeat=False):
    """Run handler(record: dict) for every record of an SQS event (a dict, or Chalice's SQSEvent);
    returns the partial-batch response {"batchItemFailures": [...]}.

    heartbeat: True (common.heartbeat.DEFAULT: hidden 60 s past the last beat, a beat every 20 s) or a
    common.heartbeat.Policy, for handlers that may run long: every record of the batch is kept hidden
    while this call runs (a failed one only until its backoff is set), and shows again soon after the
    process dies. A handler that works on the batch before this call passes the common.heartbeat.Heartbeat
    it started for that work (`with heartbeat.Heartbeat(records) as beating:`); it stays the caller's to stop."""
    if hasattr(event, "to_dict"):
        context = context or getattr(event, "context", None)
        event = event.to_dict()
    owned = not isinstance(heartbeat, heartbeats.Heartbeat)
    started = time.time() if owned else heartbeat.created  # the caller's work on the batch began with its heartbeat
    if owned:
        policy = heartbeats.DEFAULT if heartbeat is True else heartbeat or None
        beating = heartbeats.Heartbeat(event.get("Records") or [], policy) if policy else None
    else:
        beating = heartbeat
    if beating is not None and owned:
        beating.start()
    try:
        return process_partial_response(event=event, record_handler=lambda record: handler(record.raw_event),
                                        processor=_Processor(backoff, beating, started), context=context)
    finally:
        if beating is not None and owned:
            beating.stop()
