"""The maintenance sweep's backstop: every recipient reaches a final status, even when its queue message is gone.

The sender makes a row final on the message's last receive (sender.py), but a message can still leave a row
behind: the whole batch failed on its last receive (the database was down at the claim, the function crashed
or timed out), or the message was never received before SQS deleted it. Such a row would stay 'queued' (or
'sending') for ever, and the broadcast never finish. The sweep makes it final without sending anything:

- 'queued' and its message sent longer ago than the queue's MessageRetentionPeriod (+ EXPIRY_MARGIN): by then
  the message has left the send queue, deleted by SQS at the end of its retention or moved to the DLQ before, so
  the sender will not receive it again -> 'not_sent' (Expired), and the operator can send it again. The
  retention is required to be at least twice the queue's whole retry span (a message's longest life while it is
  retried), so nothing the queue would still try is given up.
- 'queued' with no message of its own (enqueued_at unset) since before that same cutoff: its fan-out job kept
  failing, and the maintenance queued it again every sweep in vain -> 'not_sent' (NeverQueued). Were it queued
  now, it would be sent hours late; the operator can send it again instead. The sweep runs before the re-queueing.
- 'sending' for longer than sender.STALE_AFTER: the attempt died (no live one is older), maybe after ChatApp
  accepted the text -> 'unknown' (Interrupted), exactly what its redelivery would do.

Both updates name the source status and run under the row locks the sender's claim also takes, so a message
that arrives after all (a DLQ message redriven to the send queue by hand) finds the row final and sends nothing.
"""
from datetime import timedelta

from common import batch, db
from common.log import get_logger
from common.settings import SettingError

from . import queries, sender
from .clock import utcnow

log = get_logger(__name__)

# What the queue's retry span is made of (tests/broadcast checks them against template.yaml):
MAX_DELAY = 900            # SQS's DelaySeconds limit: no recipient's message becomes visible later than this
SENDER_TIMEOUT = 30        # BroadcastSenderFunction's Timeout: the longest a receive is processed
QUEUE_VISIBILITY = 180     # BroadcastSendQueue's VisibilityTimeout: how soon a crashed receive comes back
# The longest a failed receive waits before the next: the backoff's cap, the crash backstop, a WAIT's delay.
LONGEST_WAIT = int(max(batch.DEFAULT_BACKOFF.cap, QUEUE_VISIBILITY, sender.STALE_AFTER.total_seconds()))
# enqueued_at is taken just before the message is sent; a second copy of it (a fan-out job expanded twice at once)
# goes within that job's run (one sender Timeout) later; plus clocks that disagree by a few minutes.
EXPIRY_MARGIN = timedelta(minutes=15)


def retry_span(max_receives):
    """Seconds from a message's send to its last possible receive ending while nothing is stuck ahead of it:
    the longest delay, then every receive processed to the timeout and waiting the longest wait."""
    return MAX_DELAY + max_receives * (SENDER_TIMEOUT + LONGEST_WAIT)


def expired_before(settings, now):
    """Recipients whose message was sent before this time have none left in the queue."""
    span = retry_span(settings.max_receives)
    if settings.message_retention < 2 * span:
        raise SettingError(f"BROADCAST_MESSAGE_RETENTION_SECONDS ({settings.message_retention}) must be at least "
                           f"twice the send queue's retry span ({span} s with {settings.max_receives} receives), "
                           "or recipients still being retried would be given up")
    return now - timedelta(seconds=settings.message_retention) - EXPIRY_MARGIN


def sweep(settings, now=None):
    """Make final the recipients no message can reach any more; returns {"expired": n, "never_queued": n,
    "interrupted": n}."""
    now = now or utcnow()
    cutoff = expired_before(settings, now)
    with db.mysql_transaction() as cur:
        expired = cur.execute(queries.MARK_EXPIRED, (sender.EXPIRED, sender.EXPLANATIONS[sender.EXPIRED], now, now,
                                                     cutoff))
    with db.mysql_transaction() as cur:
        never_queued = cur.execute(queries.MARK_NEVER_QUEUED, (
            sender.NEVER_QUEUED, sender.EXPLANATIONS[sender.NEVER_QUEUED], now, now, cutoff))
    with db.mysql_transaction() as cur:
        interrupted = cur.execute(queries.MARK_STALE_SENDING, (
            sender.INTERRUPTED, sender.EXPLANATIONS[sender.INTERRUPTED], now, now, now - sender.STALE_AFTER))
    if expired or interrupted or never_queued:
        log.warning("recipients no message can reach made final", expired=expired, never_queued=never_queued,
                    interrupted=interrupted)
    return {"expired": expired, "never_queued": never_queued, "interrupted": interrupted}
