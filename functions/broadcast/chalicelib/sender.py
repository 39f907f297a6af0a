"""Send one recipient's message through ChatApp, at most once, and record what happened.

Idempotency: the row is claimed (queued -> sending) in its own committed transaction before the API
is called, so a redelivered SQS message finds it taken and sends nothing. An SQS batch is claimed in one
transaction and its outcomes recorded in one (send_batch): the commits, not the statements, were the cost.

A redelivery that finds the row still 'sending':
- claimed less than STALE_AFTER ago: the first attempt may still be running (SQS delivered the
  message twice at once); report a retry, and by then the row has its final status.
- older: the attempt died mid-call (killed at its timeout, crashed), maybe after ChatApp accepted
  the text. We do NOT resend blindly, because a duplicate WhatsApp message cannot be taken back;
  the row becomes 'unknown' with that explanation, and the operator can check the chat.

A retryable ChatApp error is final after MAX_CALLS calls for the row (its `attempts`, counted at each claim),
not after so many receives: a receive spent by a killed sender (no call made, or the row ends 'unknown') is
not a failure of the data, and the queue's maxReceiveCount is set well above MAX_CALLS for such deaths.

The last allowed receive (max_receives, the queue's maxReceiveCount) is final, so no row is left 'queued' or
'sending' behind a message that went to the DLQ: a retryable error or running out of time makes it 'not_sent'
(nothing was sent), and a WAIT leaves the row to the delivery sending it (which records its outcome; if that
one died, the maintenance sweep makes the stale 'sending' row 'unknown'; see expiry.py).
"""
import time
from datetime import timedelta

from common import db
from common.i18n import N_
from common.log import get_logger

from . import queries
from .chatapp import ChatAppError, Held
from .clock import utcnow

log = get_logger(__name__)
RECORD_PATIENCE = 20                   # seconds; with the call itself, well inside the sender's 30 s Timeout
STALE_AFTER = timedelta(seconds=60)    # 2x the sender's Timeout: no live attempt is older
# Seconds into a batch after which no ChatApp call starts: one call can take 25 s (chatapp.TIMEOUT), and the
# sender has 30 s in all.
SEND_BUDGET = 5.0
MAX_CALLS = 5   # ChatApp calls for one recipient that may fail retryably before it is 'not_sent'

SENT, NOT_SENT, UNKNOWN, DUPLICATE, MISSING = "sent", "not_sent", "unknown", "duplicate", "missing"
CANCELLED_STATUS = "cancelled"   # the broadcast was cancelled after the claim, before the call: nothing was sent
RETRY = "retry"     # nothing was sent: deliver the message again after a backoff
WAIT = "wait"       # an earlier delivery is sending right now: come back once it must have ended


class Wait(str):
    """WAIT (equal to it), with the seconds until the claim is stale: the redelivery that finds it so decides."""

    def __new__(cls, seconds):
        outcome = super().__new__(cls, WAIT)
        outcome.seconds = seconds
        return outcome


LEFT = "left"       # as WAIT, on the last receive: done with; the delivery sending it records the outcome
INTERRUPTED, GAVE_UP, EXPIRED, NEVER_QUEUED = "Interrupted", "GaveUp", "Expired", "NeverQueued"
CANCELLED = "Cancelled"
# The details of our own codes, stored in English and shown in the reader's language (pages).
EXPLANATIONS = {
    INTERRUPTED: N_("an earlier attempt stopped while calling ChatApp; not resent to avoid a duplicate message - "
                    "check the chat before sending again"),
    GAVE_UP: N_("the last attempt stopped before calling ChatApp (out of time, or an error in the sender); nothing "
                "was sent - you can send it again"),
    EXPIRED: N_("its queue message expired or was lost before it could be sent; nothing was sent - you can send "
                "it again"),
    NEVER_QUEUED: N_("its message could not be queued for hours (the queue kept failing); nothing was sent - you "
                     "can send it again"),
    CANCELLED: N_("the broadcast was cancelled before this message was sent"),
}


def send(client, recipient_id, receive_count=1, max_receives=5, now=None):
    """Deliver one recipient's text through client (a chatapp.ChatApp); returns the outcome (RETRY, WAIT: deliver
    the SQS message again). max_receives: the queue's maxReceiveCount, the last receive is final."""
    return send_batch(client, [(recipient_id, receive_count)], max_receives, now)[recipient_id]


def send_batch(client, deliveries, max_receives=5, now=None, budget=SEND_BUDGET, clock=time.monotonic):
    """Deliver the texts of one SQS batch: deliveries [(recipient id, receive count)] -> {recipient id: outcome}.

    Three database transactions for the whole batch instead of three per message: one claims every
    queued recipient of the batch (and reads what to send), the texts go out one by one, one records all
    outcomes. A recipient named twice in the batch (its fan-out job expanded twice) is sent at most once;
    both deliveries get its outcome. No ChatApp call starts later than `budget` seconds into the batch:
    the recipients left are released unsent (RETRY), so a slow API cannot run the function into its timeout
    holding claims that would turn into 'unknown'; on their last receive they become 'not_sent' instead)."""
    now = now or utcnow()
    receives = {}
    for recipient_id, receive_count in deliveries:
        receives.setdefault(recipient_id, receive_count)
    outcomes, pending = _claim(receives, max_receives, now)
    writes, started, held, cancelled = [], clock(), Held(), set()
    try:
        while pending:
            row = pending.pop(0)
            recipient_id = row["id"]
            if clock() - started > budget:
                pending.insert(0, row)
                break
            # Re-checked before each call: a cancel clicked while this batch was sending stops it here.
            if row["broadcast_id"] in cancelled or _is_cancelled(row["broadcast_id"]):
                cancelled.add(row["broadcast_id"])
                writes.append((queries.MARK_FINAL, (CANCELLED_STATUS, CANCELLED, EXPLANATIONS[CANCELLED], utcnow(),
                                                    utcnow(), recipient_id)))
                outcomes[recipient_id] = CANCELLED_STATUS
                continue
            try:
                data = client.send_text(row["phone"], row["text"], held)
            except ChatAppError as exc:
                outcomes[recipient_id] = _failed(writes, recipient_id, exc, receives[recipient_id], max_receives,
                                                 row["attempts"] + 1)
                continue
            writes.append((queries.MARK_SENT, (_message_id(recipient_id, data), utcnow(), utcnow(), recipient_id)))
            outcomes[recipient_id] = SENT
    finally:
        # Also after an unexpected error: what was sent is recorded and what was not tried is released (nothing
        # was sent); only the row whose call raised stays 'sending' (maybe sent: its redelivery makes it 'unknown').
        for row in pending:
            outcomes[row["id"]] = _not_tried(writes, row["id"], receives[row["id"]], max_receives)
        if writes:
            _record(writes)
    return outcomes


def _is_cancelled(broadcast_id):
    with db.mysql_transaction() as cur:
        return bool(cur.execute(queries.CANCELLED_AMONG, ((broadcast_id,),)))


def _claim(receives, max_receives, now):
    """One transaction: lock the batch's rows ({recipient id: receive count}), claim the queued ones
    (queued -> sending), make the ones an interrupted attempt left 'sending' 'unknown'. Returns
    ({recipient id: outcome} of the rows not claimed, [the claimed rows with phone and text, by id])."""
    recipient_ids, outcomes, claimed = list(receives), {}, []
    with db.mysql_transaction() as cur:
        # Rows locked in id order (a concurrent batch waits here, then finds them taken; no deadlock).
        cur.execute(queries.LOCK_RECIPIENTS, (tuple(recipient_ids),))
        rows = {row["id"]: row for row in cur.fetchall()}
        for recipient_id in recipient_ids:
            row = rows.get(recipient_id)
            if row is not None and row["status"] == "queued":
                claimed.append(row)
            else:
                last = receives[recipient_id] >= max_receives
                outcomes[recipient_id] = _not_claimed(cur, row, recipient_id, now, last)
        if claimed:
            ids = tuple(row["id"] for row in claimed)
            cur.execute(queries.CLAIM_MANY, (now, now, ids))
            cur.execute(queries.BROADCAST_TEXTS, (tuple({row["broadcast_id"] for row in claimed}),))
            texts = {row["id"]: row["text"] for row in cur.fetchall()}
            for row in claimed:
                row["text"] = texts[row["broadcast_id"]]
    return outcomes, sorted(claimed, key=lambda row: row["id"])


def _message_id(recipient_id, data):
    message_id = data.get("id") if isinstance(data, dict) else None
    if not message_id:
        log.warning("ChatApp accepted the message but gave no id; status updates cannot match it",
                    recipient_id=recipient_id)
    return str(message_id)[:64] if message_id else None


def _failed(writes, recipient_id, exc, receive_count, max_receives, calls):
    """calls: ChatApp calls made for the row, this one included."""
    if exc.retryable and receive_count < max_receives and calls < MAX_CALLS:
        log.warning("sending failed; will retry", recipient_id=recipient_id, error=str(exc), receive=receive_count,
                    max_receives=max_receives, call=calls, max_calls=MAX_CALLS)
        writes.append((queries.RELEASE_FOR_RETRY, (exc.code[:100], f"retrying: {exc.message}"[:1000], utcnow(),
                                                   recipient_id)))
        return RETRY
    message = exc.message
    if exc.retryable:   # last receive before the DLQ: say so rather than leave it queued forever
        tried = calls if calls >= MAX_CALLS else receive_count  # what made it final: the calls, or the last receive
        message = f"{message} (gave up after {tried} attempts)"
    log.info("not sent", recipient_id=recipient_id, error=str(exc))
    writes.append((queries.MARK_FINAL, (NOT_SENT, exc.code[:100], message[:1000], utcnow(), utcnow(), recipient_id)))
    return NOT_SENT


def _not_tried(writes, recipient_id, receive_count, max_receives):
    """A claimed row the batch had no time (or, after an unexpected error, no chance) to send: nothing was sent.
    Released for the redelivery; on the last receive there is none (the message goes to the DLQ), so final."""
    if receive_count < max_receives:
        writes.append((queries.RELEASE_FOR_RETRY, ("NotTried", "retrying: the batch stopped before this one",
                                                   utcnow(), recipient_id)))
        return RETRY
    log.warning("not tried on its last receive; not sent", recipient_id=recipient_id, receive=receive_count)
    message = f"{EXPLANATIONS[GAVE_UP]} (gave up after {receive_count} attempts)"
    writes.append((queries.MARK_FINAL, (NOT_SENT, GAVE_UP, message, utcnow(), utcnow(), recipient_id)))
    return NOT_SENT


def _not_claimed(cur, row, recipient_id, now, last=False):
    if row is None:
        log.warning("recipient does not exist (deleted broadcast?); dropping its message", recipient_id=recipient_id)
        return MISSING
    if row["status"] != "sending":
        return DUPLICATE          # already done by an earlier delivery of the same message
    if row["sending_at"] and now - row["sending_at"] < STALE_AFTER:
        if last:
            # Coming back could only send this message to the DLQ, the row still 'sending'. The delivery that
            # claimed it records the outcome; if it died, the maintenance sweep makes the row 'unknown'.
            log.info("being sent by another delivery on this one's last receive; left to it",
                     recipient_id=recipient_id)
            return LEFT
        return Wait(max(1, int((row["sending_at"] + STALE_AFTER - now).total_seconds()) + 1))
    log.warning("an earlier attempt was interrupted mid-call; not resending", recipient_id=recipient_id)
    cur.execute(queries.MARK_FINAL, (UNKNOWN, INTERRUPTED, EXPLANATIONS[INTERRUPTED], now, now, recipient_id))
    return UNKNOWN


def _record(writes, patience=RECORD_PATIENCE, sleep=time.sleep):
    """Store the outcomes of a batch, [(statement, params)], in one transaction. The calls to ChatApp have
    happened by now, so a short database outage must not lose their results (the rows would stay "sending",
    then "unknown"): every statement is idempotent (it names the source status) and the transaction is tried
    again with backoff for up to `patience` seconds."""
    deadline, delay = time.monotonic() + patience, 0.5
    while True:
        try:
            with db.mysql_transaction() as cur:
                for statement, params in writes:
                    cur.execute(statement, params)
            return
        except db.connection_errors():
            if time.monotonic() + delay > deadline:
                raise
            log.warning("recording an outcome failed (database unreachable); trying again", seconds=delay)
            sleep(delay)
            delay = min(delay * 2, 4.0)
