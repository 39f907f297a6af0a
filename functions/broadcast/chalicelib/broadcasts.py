"""Broadcasts in MySQL: store one with its recipients, list them, show one with every recipient's fate."""
from datetime import timedelta

from common import db

from . import fanout, pacing, queries
from .clock import utcnow

LIST_PAGE = 50
RECIPIENT_PAGE = 200
DELIVERY_WAIT = timedelta(minutes=10)   # a 'sent' row younger than this still counts as pending
STATUSES = queries.STATUS_ORDER


class NotFound(LookupError):
    """No such broadcast."""


def start(settings, text, numbers, duplicates):
    """Store a broadcast to numbers (phones.Number list), each with its random delay, and queue its fan-out jobs;
    returns its id."""
    delays = pacing.choose_delays(len(numbers), settings.delay_range)
    broadcast_id, (low, high) = create(text, numbers, duplicates, delays)
    fanout.enqueue_jobs(settings, broadcast_id, low, high)
    return broadcast_id


def create(text, numbers, duplicates, delays, now=None):
    """Store the broadcast and its recipients in one transaction; returns (broadcast id, (lowest, highest id))."""
    now = now or utcnow()
    with db.mysql_transaction() as cur:
        cur.execute(queries.INSERT_BROADCAST, (text, len(numbers), duplicates, now))
        broadcast_id = cur.lastrowid
        cur.executemany(queries.INSERT_RECIPIENT, [
            (broadcast_id, n.line, n.raw[:100], n.phone, delay, now, now) for n, delay in zip(numbers, delays)])
        cur.execute(queries.RECIPIENT_ID_RANGE, (broadcast_id,))
        span = cur.fetchone()
    return broadcast_id, (span["low"], span["high"])


def recent(page=1):
    """(broadcasts newest first, each with .counts per status; total count)."""
    with db.mysql_transaction() as cur:
        cur.execute(queries.LIST_BROADCASTS, (LIST_PAGE, (page - 1) * LIST_PAGE))
        rows = cur.fetchall()
        cur.execute(queries.COUNT_BROADCASTS)
        total = cur.fetchone()["n"]
        counts = _counts(cur, [r["id"] for r in rows])
    for row in rows:
        row["counts"] = counts.get(row["id"], {})
    return rows, total


def detail(broadcast_id, page=1, status=None, now=None):
    """The broadcast, its counts per status, whether anything is pending, and one page of recipients."""
    now = now or utcnow()
    with db.mysql_transaction() as cur:
        cur.execute(queries.GET_BROADCAST, (broadcast_id,))
        broadcast = cur.fetchone()
        if broadcast is None:
            raise NotFound(broadcast_id)
        broadcast["counts"] = _counts(cur, [broadcast_id]).get(broadcast_id, {})
        cur.execute(queries.PENDING_COUNT, (broadcast_id, now - DELIVERY_WAIT))
        broadcast["pending"] = cur.fetchone()["n"]
        offset = (page - 1) * RECIPIENT_PAGE
        if status:
            cur.execute(queries.RECIPIENTS_PAGE_BY_STATUS, (broadcast_id, status, RECIPIENT_PAGE, offset))
        else:
            cur.execute(queries.RECIPIENTS_PAGE, (broadcast_id, RECIPIENT_PAGE, offset))
        recipients = cur.fetchall()
    shown = broadcast["counts"].get(status, 0) if status else broadcast["recipient_count"]
    broadcast["pages"] = max(1, -(-shown // RECIPIENT_PAGE))
    return broadcast, recipients


def _counts(cur, ids):
    if not ids:
        return {}
    cur.execute(queries.STATUS_COUNTS, (tuple(ids),))
    out = {}
    for row in cur.fetchall():
        out.setdefault(row["broadcast_id"], {})[row["status"]] = row["n"]
    return out
