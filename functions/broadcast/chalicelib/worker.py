"""The queue and schedule handlers' logic: app.py's workers are one-liners calling these."""
from common import batch, heartbeat, queue
from common.log import get_logger
from common.settings import once

from . import expiry, fanout, login_throttle, queue_messages, sender, settings, tokens
from .chatapp import ChatApp, ChatAppError

log = get_logger(__name__)


def send_messages(event):
    """Fan-out jobs and per-recipient sends; a record that should come back raises (common.batch). The sends
    of a batch go out together (sender.send_batch: one claim and one outcome transaction per batch)."""
    records = (event.to_dict() if hasattr(event, "to_dict") else event)["Records"]
    # The heartbeat covers the sends too: a sender killed mid-batch has its records back within a minute, not
    # after the queue's 180 s.
    with heartbeat.Heartbeat(records) as beating:
        outcomes = _send_together(records)
        return batch.process(event, lambda record: _handle_record(record, outcomes), heartbeat=beating)


def maintain():
    """On the sweep schedule: renew tokens well before they end (encrypting any stored in plaintext); queue
    again recipients whose fan-out job was lost, after making final the recipients no queue message can reach any
    more."""
    result = {"tokens_renewed": False, "requeued": 0}
    client = chatapp()           # its settings checked first: a missing SECRET_KEY is named, not met halfway
    tokens.encrypt_plaintext()
    try:
        result["tokens_renewed"] = client.keep_fresh()
    except ChatAppError as exc:
        log.error("keeping ChatApp tokens fresh failed", error=str(exc))
    # Given up first: a recipient past the queue's retention is made final, not queued again to be sent hours late.
    result.update(expiry.sweep(settings.load()))
    result["requeued"] = fanout.requeue_stranded(settings.load())
    result["login_records_purged"] = login_throttle.purge()
    return result


@once
def chatapp():
    """The ChatApp client of this execution environment (its settings read once)."""
    return ChatApp(settings.chatapp())


def _message(record):
    try:
        return queue_messages.parse(record["body"])
    except queue_messages.BadMessage:
        return None


def _send_together(records):
    """{recipient id: outcome} of the batch's Send records; {recipient id: the error} if the batch failed
    before any record had an outcome (the database was down at the claim: nothing was sent)."""
    deliveries = []
    for record in records:
        message = _message(record)
        if isinstance(message, queue_messages.Send):
            deliveries.append((message.recipient_id, batch.attempt_of(record)))
    if not deliveries:
        return {}
    # Not caught: a bad setting (SECRET_KEY, ChatApp's) fails the invocation, naming it, before any claim.
    client, max_receives = chatapp(), settings.load().max_receives
    try:
        return sender.send_batch(client, deliveries, max_receives)
    except Exception as exc:  # noqa: BLE001 - logged once here; every record of it is delivered again
        log.exception("sending a batch failed", count=len(deliveries))
        return {recipient_id: exc for recipient_id, _count in deliveries}


def _handle_record(record, outcomes):
    """Done when it returns (sent, final, left to the delivery sending it, or unusable and dropped); batch.Retry
    to have it delivered again.
    outcomes: what _send_together did with the batch's sends."""
    message = _message(record)
    if isinstance(message, queue_messages.FanoutJob):
        failed = fanout.expand(settings.load(), message.broadcast_id, message.low, message.high)
        if failed:
            raise batch.Retry(f"{len(failed)} recipients of broadcast {message.broadcast_id} not queued")
    elif isinstance(message, queue_messages.PaceTick):
        try:
            fanout.tick(settings.load(), message.broadcast_id, message.nonce)
        except (RuntimeError, queue.SendError) as exc:
            raise batch.Retry(f"pacing tick of broadcast {message.broadcast_id}: {exc}") from None
    elif isinstance(message, queue_messages.Send):
        outcome = outcomes[message.recipient_id]
        if isinstance(outcome, Exception):
            raise batch.Retry(f"recipient {message.recipient_id}: the batch failed ({outcome.__class__.__name__})")
        if outcome == sender.RETRY:
            raise batch.Retry(f"recipient {message.recipient_id}: sending failed, retrying")
        if outcome == sender.WAIT:   # back when that delivery must have ended: sent, or died and 'unknown' then
            raise batch.Retry(f"recipient {message.recipient_id} is being sent by another delivery",
                              delay=getattr(outcome, "seconds", sender.STALE_AFTER.total_seconds()))
    else:
        log.error("dropping an SQS message we cannot read", body=str(record.get("body"))[:200])
