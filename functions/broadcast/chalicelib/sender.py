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
from datetime import timedelta

from common import db
from common.log import get_logger

from . import chatapp, queries, tokens
from .clock import utcnow

log = get_logger(__name__)
STALE_AFTER = timedelta(seconds=60)    # 2x the sender's Timeout: no live attempt is older

SENT, NOT_SENT, UNKNOWN, RETRY, DUPLICATE, MISSING = "sent", "not_sent", "unknown", "retry", "duplicate", "missing"


def send(settings, recipient_id, receive_count=1, now=None):
    """Deliver one recipient's text; returns the outcome (RETRY: leave the SQS message for redelivery)."""
    now = now or utcnow()
    with db.mysql_transaction() as cur:
        claimed = cur.execute(queries.CLAIM, (now, now, recipient_id)) == 1
        cur.execute(queries.RECIPIENT_TO_SEND, (recipient_id,))
        row = cur.fetchone()
    if not claimed:
        return _not_claimed(row, recipient_id, now)
    try:
        data = _send_text(settings, row["phone"], row["text"])
    except chatapp.ChatAppError as exc:
        return _failed(settings, recipient_id, exc, receive_count)
    message_id = data.get("id") if isinstance(data, dict) else None
    if not message_id:
        log.warning("recipient %s: ChatApp accepted the message but gave no id; status updates cannot match it",
                    recipient_id)
    _record(queries.MARK_SENT, (str(message_id)[:64] if message_id else None, utcnow(), utcnow(), recipient_id))
    return SENT


def _send_text(settings, phone, text):
    """Send with the current token; if ChatApp rejects the token, renew it once and send again."""
    try:
        token = tokens.access_token(settings)
    except chatapp.ChatAppError as exc:
        # Could not get a token at all (ChatApp down, or wrong credentials in the settings): nothing
        # was sent, and the message should wait for a fix rather than be dropped at once.
        raise chatapp.ChatAppError(exc.code, f"cannot obtain ChatApp tokens: {exc.message}", exc.status,
                                   retryable=True) from None
    try:
        return chatapp.send_text(settings.chatapp_base_url, token, settings.chatapp_license_id, phone, text)
    except chatapp.InvalidToken:
        log.info("access token rejected; renewing it")
        token = tokens.renew(settings, stale=token)
    try:
        return chatapp.send_text(settings.chatapp_base_url, token, settings.chatapp_license_id, phone, text)
    except chatapp.InvalidToken as exc:
        raise chatapp.ChatAppError(exc.code, exc.message, exc.status, retryable=True) from None


def _failed(settings, recipient_id, exc, receive_count):
    if exc.retryable and receive_count < settings.max_receives:
        log.warning("recipient %s: %s; will retry (receive %d of %d)", recipient_id, exc, receive_count,
                    settings.max_receives)
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
        return RETRY
    log.warning("recipient %s: an earlier attempt was interrupted mid-call; not resending", recipient_id)
    _record(queries.MARK_FINAL, (UNKNOWN, "Interrupted",
                                 "an earlier attempt stopped while calling ChatApp; not resent to avoid a "
                                 "duplicate message - check the chat before sending again", now, now, recipient_id))
    return UNKNOWN


def _record(statement, params):
    with db.mysql_transaction() as cur:
        cur.execute(statement, params)
