"""Starting a mailing: create its messages idempotently and queue them, each delayed to its window.

Two dispatchers of one mailing (the schedule and the sweep, a retry) never both run it: the lease is
taken with one conditional UPDATE. A dispatcher that dies leaves its lease to lapse; the next one
queues every message still processing again (the sender's claim makes a second copy harmless).
"""
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from common import aws, db

from .. import observability, queries
from ..mailings.store import row as mailing_row
from . import windows

SQS_MAX_DELAY = 900
SQS_BATCH = 10
SEND_THREADS = 8
CLOSED_REASON = "the send window does not open before the mailing ends"
ENDED_REASON = "the mailing ended before it could start"
SWEEP_LIMIT = 100

log = observability.logger


def due_mailings(now, limit=SWEEP_LIMIT):
    """Ids of mailings whose start has come and that are not (or no longer) being dispatched."""
    with db.pg_transaction() as cur:
        cur.execute(queries.DUE_MAILINGS, {"now": now, "limit": limit})
        return [r[0] for r in cur.fetchall()]


def dispatch(settings, mailing_id, now):
    """Dispatch one mailing if it is due and nobody else is at it; returns how many messages were queued
    (None when there was nothing to do)."""
    with db.pg_transaction() as cur:
        cur.execute(queries.TAKE_DISPATCH_LEASE, {"id": mailing_id, "now": now,
                                                  "lease": now + timedelta(seconds=settings.lease_seconds)})
        found = cur.fetchone()
    if found is None:
        log.info("mailing not due or already dispatched", extra={"mailing_id": mailing_id})
        return None
    mailing, redo = mailing_row(found[:-1]), found[-1] == "dispatching"
    with db.pg_transaction() as cur:
        rows = _create_messages(cur, mailing, now)
        if redo:
            cur.execute(queries.PROCESSING_MESSAGES, (mailing_id,))
            rows = cur.fetchall()
    queued = enqueue(settings.send_queue_url, mailing, rows, now)
    with db.pg_transaction() as cur:
        cur.execute(queries.FINISH_DISPATCH, (now, mailing_id))
    log.info("mailing dispatched", extra={"mailing_id": mailing_id, "queued": queued})
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
    """Queue (message id, client id, timezone) rows in batches of 10, in parallel; each message waits for
    its window (up to SQS's 15 minutes; the sender defers it again beyond that)."""
    delays = {}
    entries = []
    for message_id, client_id, tz_name in rows:
        if tz_name not in delays:
            delays[tz_name] = delay_for(mailing, tz_name, now)
        entries.append({"Id": str(message_id), "DelaySeconds": delays[tz_name],
                        "MessageBody": json.dumps({"message_id": message_id, "mailing_id": mailing["id"],
                                                   "client_id": client_id})})
    batches = [entries[i:i + SQS_BATCH] for i in range(0, len(entries), SQS_BATCH)]
    if not batches:
        return 0
    with ThreadPoolExecutor(max_workers=min(SEND_THREADS, len(batches))) as pool:
        list(pool.map(lambda batch: send_batch(queue_url, batch), batches))
    return len(entries)


def delay_for(mailing, tz_name, now):
    verdict, seconds = windows.delay_until(tz_name, mailing["window_start"], mailing["window_end"], now,
                                           mailing["end_at"])
    return min(SQS_MAX_DELAY, seconds or 0)


def send_batch(queue_url, entries, attempts=5):
    """SendMessageBatch, sending again only the entries SQS reported as failed."""
    sqs = aws.client("sqs")
    for _ in range(attempts):
        answer = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        failed = {f["Id"] for f in answer.get("Failed", [])}
        if not failed:
            return
        entries = [e for e in entries if e["Id"] in failed]
    raise RuntimeError(f"SQS refused {len(entries)} messages after {attempts} attempts")
