"""Send one recipient's message through ChatApp, at most once, and record what happened.

Idempotency: the row is claimed (queued -> sending) in its own committed statement before the API
is called, so a redelivered SQS message finds it taken and sends nothing.

A redelivery that finds the row still 'sending':
- claimed less than STALE_AFTER ago: the first attempt may still be running (SQS delivered the
  message twice at once); report a retry, and by then the row has its final status.
- older: the attempt died mid-call (killed at its timeout, crashed), maybe after ChatApp accepted
  the text. We do NOT resend blindly, because a duplicate WhatsApp message cannot be taken back;
  the row becomes 'unknown' with that explanation, and the operator can check the chat.
"""
import time
from datetime import timedelta

from common import db
from common.i18n import N_
from common.log import get_logger

from . import queries
from .chatapp import ChatAppError
from .clock import utcnow

log = get_logger(__name__)
RECORD_PATIENCE = 20                   # seconds; with the call itself, well inside the sender's 30 s Timeout
STALE_AFTER = timedelta(seconds=60)    # 2x the sender's Timeout: no live attempt is older

SENT, NOT_SENT, UNKNOWN, DUPLICATE, MISSING = "sent", "not_sent", "unknown", "duplicate", "missing"
RETRY = "retry"     # nothing was sent: deliver the message again after a backoff
WAIT = "wait"       # an earlier delivery is sending right now: come back once it must have ended
INTERRUPTED = "Interrupted"
# The details of our own codes, stored in English and shown in the reader's language (pages).
EXPLANATIONS = {INTERRUPTED: N_("an earlier attempt stopped while calling ChatApp; not resent to avoid a duplicate "
                                "message - check the chat before sending again")}


def send(client, recipient_id, receive_count=1, max_receives=5, now=None):
    """Deliver one recipient's text through client (a chatapp.ChatApp); returns the outcome (RETRY, WAIT: deliver
    the SQS message again). max_receives: the queue's maxReceiveCount, the last receive is final."""
    now = now or utcnow()
    with db.mysql_transaction() as cur:
        claimed = cur.execute(queries.CLAIM, (now, now, recipient_id)) == 1
        cur.execute(queries.RECIPIENT_TO_SEND, (recipient_id,))
        row = cur.fetchone()
    if not claimed:
        return _not_claimed(row, recipient_id, now)
    try:
        data = client.send_text(row["phone"], row["text"])
    except ChatAppError as exc:
        return _failed(recipient_id, exc, receive_count, max_receives)
    message_id = data.get("id") if isinstance(data, dict) else None
    if not message_id:
        log.warning("recipient %s: ChatApp accepted the message but gave no id; status updates cannot match it",
                    recipient_id)
    _record(queries.MARK_SENT, (str(message_id)[:64] if message_id else None, utcnow(), utcnow(), recipient_id))
    return SENT


def _failed(recipient_id, exc, receive_count, max_receives):
    if exc.retryable and receive_count < max_receives:
        log.warning("recipient %s: %s; will retry (receive %d of %d)", recipient_id, exc, receive_count,
                    max_receives)
        _record(queries.RELEASE_FOR_RETRY, (exc.code[:100], f"retrying: {exc.message}"[:1000], utcnow(),
                                            recipient_id))
        return RETRY
    message = exc.message
    if exc.retryable:   # last receive before the DLQ: say so rather than leave it queued forever
        message = f"{message} (gave up after {receive_count} attempts)"
    log.info("recipient %s not sent: %s", recipient_id, exc)
    _record(queries.MARK_FINAL, (NOT_SENT, exc.code[:100], message[:1000], utcnow(), utcnow(), recipient_id))
    return NOT_SENT


def _not_claimed(row, recipient_id, now):
    if row is None:
        log.warning("recipient %s does not exist (deleted broadcast?); dropping its message", recipient_id)
        return MISSING
    if row["status"] != "sending":
        return DUPLICATE          # already done by an earlier delivery of the same message
    if row["sending_at"] and now - row["sending_at"] < STALE_AFTER:
        return WAIT
    log.warning("recipient %s: an earlier attempt was interrupted mid-call; not resending", recipient_id)
    _record(queries.MARK_FINAL, (UNKNOWN, INTERRUPTED, EXPLANATIONS[INTERRUPTED], now, now, recipient_id))
    return UNKNOWN


def _record(statement, params, patience=RECORD_PATIENCE, sleep=time.sleep):
    """Store an attempt's outcome. The call to ChatApp has happened by now, so a short database outage must
    not lose its result (the row would stay "sending", then "unknown"): the statement is idempotent and is
    tried again with backoff for up to `patience` seconds."""
    deadline, delay = time.monotonic() + patience, 0.5
    while True:
        try:
            with db.mysql_transaction() as cur:
                cur.execute(statement, params)
            return
        except db.connection_errors():
            if time.monotonic() + delay > deadline:
                raise
            log.warning("recording an outcome failed (database unreachable); again in %.1f s", delay)
            sleep(delay)
            delay = min(delay * 2, 4.0)
