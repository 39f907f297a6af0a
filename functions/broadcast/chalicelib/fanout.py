"""From stored recipients to SQS: the web request queues a few fan-out jobs (500 recipients each);
the sender expands each job into one delayed message per recipient.

Why two steps: 10,000 per-recipient messages are 1,000 SendMessageBatch calls, too slow to make
the operator wait for; a handful of jobs keeps the form post short, and the expansion runs in
the queue's own (parallel, retried) invocations. A recipient's delay counts from the form post: its
message waits only what is left of it when the job runs. Expanding twice is harmless: the send claim
lets only one message per recipient through, and enqueued_at skips recipients already queued.

One at a time (pacing.SERIAL) the delays add up to hours, past SQS's 900 s DelaySeconds limit: a chain of pacing
ticks queues the messages due within HORIZON, then queues the next tick for when the next message comes within
it. SQS delivers at least once, so a tick may come twice: only the tick whose nonce the broadcast holds
(pace_nonce) works, and it hands over to the next by a compare-and-set; a duplicate finds the nonce changed and
is dropped, so the chain never forks. A duplicate expansion is harmless anyway (the claim sends each recipient
once). A chain that dies (its tick lost) is restarted by the maintenance run (requeue_stranded), the remaining
gaps kept from then on.
"""
import math
import uuid
from datetime import timedelta

from common import db, queue
from common.log import get_logger

from . import pacing, queries, queue_messages
from .clock import utcnow

log = get_logger(__name__)
CHUNK = 500              # recipient ids per fan-out job
HORIZON = 600            # seconds ahead a pacing tick queues messages (SQS's DelaySeconds limit is 900)
LATE = 60                # seconds a serial chain may run behind before the rest of it is moved to start now


def job_ranges(low, high, chunk=CHUNK):
    """[(first id, last id)] covering low..high in pieces of `chunk` ids."""
    return [(start, min(start + chunk - 1, high)) for start in range(low, high + 1, chunk)]


def start(settings, broadcast_id, low, high, mode, nonce=None, now=None):
    """Queue a new broadcast's work: its fan-out jobs, or one at a time the first pacing tick (nonce: the one the
    broadcast was stored with). Returns how many jobs could not be queued (their recipients become not_sent)."""
    if mode != pacing.SERIAL:
        return enqueue_jobs(settings, broadcast_id, low, high, now)
    try:
        queue.send(settings.queue_url, queue_messages.PaceTick(broadcast_id, nonce).body())
    except queue.SendError as exc:
        _not_queued(broadcast_id, (low, high), next(iter(exc.failed.values())), now)
        return 1
    return 0


def enqueue_jobs(settings, broadcast_id, low, high, now=None):
    """Queue the fan-out jobs for ids low..high of a broadcast; returns how many jobs could not be queued
    (their recipients become not_sent with the reason)."""
    ranges = job_ranges(low, high)
    messages = [(n, queue_messages.FanoutJob(broadcast_id, *span).body(), 0) for n, span in enumerate(ranges)]
    failed = queue.send_all(settings.queue_url, messages)
    for n, reason in failed.items():
        _not_queued(broadcast_id, ranges[n], reason, now)
    return len(failed)


def _not_queued(broadcast_id, span, reason, now=None):
    log.error("fan-out job not queued", broadcast_id=broadcast_id, ids=list(span), reason=reason)
    now = now or utcnow()
    with db.mysql_transaction() as cur:
        cur.execute(queries.MARK_RANGE_NOT_QUEUED, ("NotQueued", f"could not queue the message: {reason}"[:1000],
                                                    now, now, broadcast_id, *span))


def expand(settings, broadcast_id, low, high, now=None):
    """Send one message per still-unqueued recipient of the job, with its delay; returns the ids that failed."""
    with db.mysql_transaction() as cur:
        cur.execute(queries.RECIPIENTS_TO_ENQUEUE, (broadcast_id, low, high))
        rows = cur.fetchall()
    return _queue_sends(settings, rows, now)


def _queue_sends(settings, rows, now=None):
    """One message per row, each with what is left of its delay; returns the ids that could not be queued."""
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


def new_nonce():
    return uuid.uuid4().hex


def tick(settings, broadcast_id, nonce, now=None):
    """A pacing tick of a serial broadcast: queue the messages due within HORIZON, then hand over to the next tick.
    Returns what it did ("stale": not the live tick, dropped; "done": nothing left; "next": the next tick queued).
    Raises (to be delivered again, still the live tick) when a message or the next tick could not be queued."""
    now = now or utcnow()
    with db.mysql_transaction() as cur:
        cur.execute(queries.LOCK_BROADCAST, (broadcast_id,))
        broadcast = cur.fetchone()
        if broadcast is None or broadcast["cancelled_at"] or broadcast["pace_nonce"] != nonce:
            return "stale"
        elapsed = (now - broadcast["created_at"]).total_seconds()
        cur.execute(queries.PACE_NEXT, (broadcast_id,))
        first = cur.fetchone()["next"]
        if first is not None and elapsed - first > LATE:      # the chain was lost for a while: go on from now
            cur.execute(queries.PACE_SHIFT, (math.ceil(elapsed - first), broadcast_id))
            log.warning("pacing restarted late; the remaining messages keep their gaps", broadcast_id=broadcast_id)
        cur.execute(queries.PACE_DUE, (broadcast_id, math.floor(elapsed + HORIZON)))
        rows = cur.fetchall()
    failed = _queue_sends(settings, rows, now)
    if failed:
        raise RuntimeError(f"{len(failed)} messages of broadcast {broadcast_id} not queued")
    with db.mysql_transaction() as cur:
        cur.execute(queries.PACE_NEXT, (broadcast_id,))
        following = cur.fetchone()["next"]
    successor = None if following is None else new_nonce()
    if successor:
        wait = min(900, max(1, math.ceil(following - elapsed - HORIZON)))
        queue.send(settings.queue_url, queue_messages.PaceTick(broadcast_id, successor).body(), wait)
    with db.mysql_transaction() as cur:
        handed = cur.execute(queries.PACE_HAND_OVER, (successor, broadcast_id, nonce))
    if not handed:
        log.info("a duplicate pacing tick lost the hand-over; its successor will be dropped", broadcast_id=broadcast_id)
    return "next" if successor else "done"


def restart(settings, broadcast_id):
    """Start a new tick chain for a serial broadcast whose chain was lost (any old tick is dropped on arrival)."""
    nonce = new_nonce()
    with db.mysql_transaction() as cur:
        if not cur.execute(queries.PACE_RESTART, (nonce, broadcast_id)):
            return False                    # cancelled (or gone): nothing to pace
    queue.send(settings.queue_url, queue_messages.PaceTick(broadcast_id, nonce).body())
    return True


def requeue_stranded(settings, now=None):
    """Queue fan-out jobs (one at a time: a new pacing tick) again for recipients due a while ago that never got
    their own message; returns how many recipients."""
    now = now or utcnow()
    with db.mysql_transaction() as cur:
        cur.execute(queries.STRANDED_RANGES, (now - timedelta(minutes=settings.stranded_after),))
        stranded = cur.fetchall()
    for row in stranded:
        log.warning("re-queueing stranded recipients", broadcast_id=row["broadcast_id"], count=row["n"])
        if row["pacing"] == pacing.SERIAL:
            try:
                restart(settings, row["broadcast_id"])
            except queue.SendError as exc:           # tried again at the next run
                log.error("pacing tick not queued", broadcast_id=row["broadcast_id"], reason=str(exc))
        else:
            enqueue_jobs(settings, row["broadcast_id"], row["low"], row["high"], now)
    return sum(row["n"] for row in stranded)
