"""One queued message: checks, claim, provider call, outcome. Safe to deliver any number of times.

- Finished messages (sent, error, expired) are left alone: a redelivery sends nothing.
- The claim (claimed_at + claim_id, committed) is taken right before the call, only while the mailing
  has not ended; no other sender calls for the message while it stands.
- A claim older than the longest call belongs to a sender that died mid-call: the provider may or may
  not have the message, so it is closed as an error saying so, not sent again blindly.
- Outside the client's window the message goes back to the queue, delayed to the opening (15 minutes
  at most per hop), or expires if the window does not open before the end.
- Timeouts, 5xx and network errors release the claim and retry with backoff (common.batch); after the
  last attempt the message is an error with the reason. Attempts are the sender's own (messages.attempts, one
  per provider call), not SQS receives: a killed sender spends none, and the queue's maxReceiveCount is set
  well above them.
"""
import uuid
from datetime import timedelta

from common import batch, db, queue, rows
from common.log import get_logger
from common.settings import once

from .. import observability, queries, settings
from ..dispatch import windows
from ..clients.store import CLIENT_DELETED
from ..dispatch.dispatcher import CLOSED_REASON, SQS_MAX_DELAY
from ..queue_messages import BadMessage, SendMessage
from .provider import Provider

log = get_logger(__name__)
UNKNOWN_OUTCOME = ("outcome unknown: a sender stopped during the provider call; not sent again to avoid a "
                   "duplicate")
ENDED = "the mailing ended before the message could be sent"


@once
def provider_client():
    """The provider's client, one per execution environment (its connection pool outlives a batch)."""
    config = settings.load().need("send_queue_url", "provider_url", "provider_jwt")
    return Provider(config.provider_url, config.provider_jwt, config.connect_timeout, config.read_timeout)


def handle_record(record, now):
    """One SQS record of the send queue (common.batch.process calls it); an unusable body is dropped."""
    try:
        message = SendMessage.parse(record.get("body"))
    except BadMessage as exc:
        log.warning("unusable send record dropped", sqs_message_id=record.get("messageId"), reason=str(exc))
        return None
    return handle(settings.load(), provider_client(), message.message_id, now)


def handle(config, provider, message_id, now):
    """Process one delivery; returns what happened. Raises batch.Retry to be delivered again later.
    `now` is a callable giving the current UTC time (injected by tests)."""
    with db.pg_transaction() as cur:
        cur.execute(queries.MESSAGE_FOR_SEND, (message_id,))
        message = rows.one(cur)
    if message is None:
        log.info("message gone (its mailing or client was deleted)", message_id=message_id)
        return "gone"
    ids = {"message_id": message_id, "mailing_id": message["mailing_id"], "client_id": message["client_id"]}
    if message["status"] != "processing":
        log.info("already %s: nothing to do", message["status"], **ids)
        return "done"
    moment = now()
    if message["client_deleted"] and message["claimed_at"] is None:
        return _expire(message, ids, CLIENT_DELETED)
    if message["claimed_at"] is not None:
        return _claimed_elsewhere(config, message, ids, moment)
    if message["end_at"] <= moment:
        return _expire(message, ids, ENDED)
    verdict, seconds = windows.delay_until(message["timezone"], message["window_start"], message["window_end"],
                                           moment, message["end_at"])
    if verdict == "closed":
        return _expire(message, ids, CLOSED_REASON)
    if verdict == "wait":
        _defer(config, message, min(SQS_MAX_DELAY, seconds))
        log.info("outside the send window: back in %s s", min(SQS_MAX_DELAY, seconds), **ids)
        observability.count("Deferred", message["mailing_id"])
        return "deferred"
    claim = uuid.uuid4()
    moment = now()
    with db.pg_transaction() as cur:
        cur.execute(queries.CLAIM_MESSAGE, {"id": message_id, "claim": str(claim), "now": moment})
        claimed = cur.fetchone()
    if claimed is None:
        # Between the read and the claim the mailing ended or another sender claimed it: look again.
        raise batch.Retry("message changed while claiming", delay=1)
    attempts = claimed[0]
    outcome = provider.send(message_id, message["phone"], message["text"])
    observability.latency(outcome.milliseconds, message["mailing_id"])
    if outcome.ok:
        _finish(queries.MARK_SENT, (now(), message_id, str(claim)))
        log.info("sent", attempts=attempts, ms=round(outcome.milliseconds), **ids)
        observability.count("Sent", message["mailing_id"])
        return "sent"
    if outcome.retry and attempts < config.max_attempts:
        _finish(queries.RELEASE_CLAIM, (outcome.reason, message_id, str(claim)))
        log.warning("attempt %s failed, retrying: %s", attempts, outcome.reason, **ids)
        observability.count("Retried", message["mailing_id"])
        # Backed off by this message's own attempts, not by its receives: receives spent by killed senders
        # neither use up its attempts nor stretch its waits (issue 28).
        raise batch.Retry(outcome.reason, delay=batch.DEFAULT_BACKOFF(attempts))
    reason = f"{outcome.reason} (attempt {attempts} of {config.max_attempts})"
    _finish(queries.MARK_ERROR, (reason, message_id, str(claim)))
    log.error("not sent: %s", reason, **ids)
    observability.count("Error", message["mailing_id"])
    return "error"


def _claimed_elsewhere(config, message, ids, moment):
    stale_before = moment - timedelta(seconds=config.claim_seconds)
    if message["claimed_at"] >= stale_before:
        wait = int((message["claimed_at"] - stale_before).total_seconds()) + 1
        log.info("another sender holds the claim: back in %s s", wait, **ids)
        raise batch.Retry("claimed by another sender", delay=wait)
    with db.pg_transaction() as cur:
        cur.execute(queries.RESOLVE_STALE_CLAIM, (UNKNOWN_OUTCOME, message["id"], stale_before))
        resolved = cur.rowcount
    if resolved:
        log.error(UNKNOWN_OUTCOME, **ids)
        observability.count("Error", message["mailing_id"])
        return "unknown"
    raise batch.Retry("claim changed meanwhile", delay=1)


def _expire(message, ids, reason):
    with db.pg_transaction() as cur:
        cur.execute(queries.EXPIRE_MESSAGE, (reason, message["id"]))
        changed = cur.rowcount
    if changed:
        log.info("expired: %s", reason, **ids)
        observability.count("Expired", message["mailing_id"])
    return "expired"


def _defer(config, message, seconds):
    queue.send(config.send_queue_url, SendMessage(message["id"], message["mailing_id"], message["client_id"]).body(),
               delay_seconds=int(seconds))


def _finish(statement, params):
    with db.pg_transaction() as cur:
        cur.execute(statement, params)
