"""Starting a mailing: create its messages idempotently and queue them, each delayed to its window.

Two dispatchers of one mailing (the schedule and the sweep, a retry) never both run it: the lease is
taken with one conditional UPDATE. A dispatcher that dies leaves its lease to lapse; the next one
queues every message still processing again (the sender's claim makes a second copy harmless).
"""
from datetime import timedelta

from common import db, queue, rows
from common.log import get_logger

from .. import queries, settings
from ..queue_messages import BadMessage, SendMessage, StartMailing
from . import windows

SQS_MAX_DELAY = 900
CLOSED_REASON = "the send window does not open before the mailing ends"
ENDED_REASON = "the mailing ended before it could start"
SWEEP_LIMIT = 100

log = get_logger(__name__)


def run(event, now):
    """A mailing's start: from its one-off schedule ({"mailing_id"}), the dispatch queue (immediate starts)
    or the minute sweep (anything else: every due mailing). Returns {mailing id: messages queued}."""
    config = settings.load().need("send_queue_url")
    if isinstance(event, dict) and event.get("Records"):
        ids = [found for found in (_mailing_id_of(r.get("body")) for r in event["Records"]) if found]
    elif isinstance(event, dict) and "mailing_id" in event:
        ids = [int(event["mailing_id"])]
    else:
        ids = due_mailings(now)
    return {"dispatched": {str(i): dispatch(config, i, now) for i in ids}}


def _mailing_id_of(body):
    try:
        return StartMailing.parse(body).mailing_id
    except BadMessage as exc:
        log.warning("unusable dispatch record dropped", reason=str(exc))
        return None


def due_mailings(now, limit=SWEEP_LIMIT):
    """Ids of mailings whose start has come and that are not (or no longer) being dispatched."""
    with db.pg_transaction() as cur:
        cur.execute(queries.DUE_MAILINGS, {"now": now, "limit": limit})
        return [r[0] for r in cur.fetchall()]


def dispatch(config, mailing_id, now):
    """Dispatch one mailing if it is due and nobody else is at it; returns how many messages were queued
    (None when there was nothing to do)."""
    with db.pg_transaction() as cur:
        cur.execute(queries.TAKE_DISPATCH_LEASE, {"id": mailing_id, "now": now,
                                                  "lease": now + timedelta(seconds=config.lease_seconds)})
        mailing = rows.one(cur)
    if mailing is None:
        log.info("mailing not due or already dispatched", mailing_id=mailing_id)
        return None
    redo = mailing.pop("previous_state") == "dispatching"
    with db.pg_transaction() as cur:
        pending = _create_messages(cur, mailing, now)
        if redo:
            cur.execute(queries.PROCESSING_MESSAGES, (mailing_id,))
            pending = cur.fetchall()
    queued = enqueue(config.send_queue_url, mailing, pending, now)
    with db.pg_transaction() as cur:
        cur.execute(queries.FINISH_DISPATCH, (now, mailing_id))
    log.info("mailing dispatched", mailing_id=mailing_id, queued=queued)
    return queued


def _create_messages(cur, mailing, now):
    """Insert every matching client's message; clients whose window never opens before the end are expired."""
    match = {"codes": list(mailing["operator_codes"]), "tags": list(mailing["tags"])}
    closed = []
    if mailing["window_start"] is not None:
        cur.execute(queries.MATCHING_TIMEZONES, match)
        for (tz_name,) in cur.fetchall():
            verdict, _ = windows.delay_until(tz_name, mailing["window_start"], mailing["window_end"], now,
                                             mailing["end_at"])
            if verdict == "closed":
                closed.append(tz_name)
    cur.execute(queries.CREATE_MESSAGES, dict(match, mailing=mailing["id"], closed=closed,
                                              closed_reason=CLOSED_REASON, ended=mailing["end_at"] <= now,
                                              ended_reason=ENDED_REASON))
    return cur.fetchall()


def enqueue(queue_url, mailing, rows, now):
    """Queue (message id, client id, timezone) rows (common.queue: batches of 10, in parallel, failed entries
    sent again); each message waits for its window (up to SQS's 15 minutes; the sender defers it again beyond
    that). Raises queue.SendError if some could not be queued: the lease lapses and the next dispatcher queues
    every message still processing again."""
    delays = {}
    messages = []
    for message_id, client_id, tz_name in rows:
        if tz_name not in delays:
            delays[tz_name] = delay_for(mailing, tz_name, now)
        messages.append((message_id, SendMessage(message_id, mailing["id"], client_id).body(), delays[tz_name]))
    queue.send_all(queue_url, messages, strict=True)
    return len(messages)


def delay_for(mailing, tz_name, now):
    verdict, seconds = windows.delay_until(tz_name, mailing["window_start"], mailing["window_end"], now,
                                           mailing["end_at"])
    return min(SQS_MAX_DELAY, seconds or 0)
