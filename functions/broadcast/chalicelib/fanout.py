"""From stored recipients to SQS: the web request queues a few fan-out jobs (500 recipients each);
the sender expands each job into one delayed message per recipient.

Why two steps: 10,000 per-recipient messages are 1,000 SendMessageBatch calls, too slow to make
the operator wait for; a handful of jobs keeps the form post short, and the expansion runs in
the queue's own (parallel, retried) invocations. A recipient's delay counts from the form post: its
message waits only what is left of it when the job runs. Expanding twice is harmless: the send claim
lets only one message per recipient through, and enqueued_at skips recipients already queued.
"""
import math
from datetime import timedelta

from common import db, queue
from common.log import get_logger

from . import queries, queue_messages
from .clock import utcnow

log = get_logger(__name__)
CHUNK = 500              # recipient ids per fan-out job


def job_ranges(low, high, chunk=CHUNK):
    """[(first id, last id)] covering low..high in pieces of `chunk` ids."""
    return [(start, min(start + chunk - 1, high)) for start in range(low, high + 1, chunk)]


def enqueue_jobs(settings, broadcast_id, low, high, now=None):
    """Queue the fan-out jobs for ids low..high of a broadcast; returns how many jobs could not be queued
    (their recipients become not_sent with the reason)."""
    ranges = job_ranges(low, high)
    messages = [(n, queue_messages.FanoutJob(broadcast_id, *span).body(), 0) for n, span in enumerate(ranges)]
    failed = queue.send_all(settings.queue_url, messages)
    for n, reason in failed.items():
        log.error("fan-out job not queued", broadcast_id=broadcast_id, ids=list(ranges[n]), reason=reason)
        now = now or utcnow()
        with db.mysql_transaction() as cur:
            cur.execute(queries.MARK_RANGE_NOT_QUEUED, ("NotQueued", f"could not queue the message: {reason}"[:1000],
                                                        now, now, broadcast_id, *ranges[n]))
    return len(failed)


def expand(settings, broadcast_id, low, high, now=None):
    """Send one message per still-unqueued recipient of the job, with its delay; returns the ids that failed."""
    with db.mysql_transaction() as cur:
        cur.execute(queries.RECIPIENTS_TO_ENQUEUE, (broadcast_id, low, high))
        rows = cur.fetchall()
    if not rows:
        return []
    # Taken before the first send: a message never becomes visible before its due time.
    started = now or utcnow()
    messages = [(row["id"], queue_messages.Send(row["id"]).body(), remaining_delay(row, started)) for row in rows]
    failed = queue.send_all(settings.queue_url, messages)
    done = [row["id"] for row in rows if row["id"] not in failed]
    if done:
        with db.mysql_transaction() as cur:
            cur.execute(queries.MARK_ENQUEUED, (started, tuple(done)))
    for recipient_id, reason in failed.items():
        log.warning("recipient not queued (the job will be retried)", recipient_id=recipient_id, reason=reason)
    return list(failed)


def remaining_delay(row, started):
    """DelaySeconds for a recipient's message: its delay counts from the form post (queued_at), so the time the
    fan-out itself took (seconds for a large broadcast) is taken off; rounded up, never early, never below 0."""
    elapsed = (started - row["queued_at"]).total_seconds()
    return max(0, math.ceil(row["delay_seconds"] - max(0.0, elapsed)))


def requeue_stranded(settings, now=None):
    """Queue fan-out jobs again for recipients that never got their own message; returns how many."""
    now = now or utcnow()
    with db.mysql_transaction() as cur:
        cur.execute(queries.STRANDED_RANGES, (now - timedelta(minutes=settings.stranded_after),))
        stranded = cur.fetchall()
    for row in stranded:
        log.warning("re-queueing stranded recipients", broadcast_id=row["broadcast_id"], count=row["n"])
        enqueue_jobs(settings, row["broadcast_id"], row["low"], row["high"], now)
    return sum(row["n"] for row in stranded)
