"""Broadcasts in MySQL: store and start one, list them, show one with every recipient's fate, cancel one, send
one again to the numbers it did not reach."""
from datetime import timedelta

from common import db

from . import fanout, pacing, phones, queries, sender
from .clock import utcnow

LIST_PAGE = 50
RECIPIENT_PAGE = 200
DELIVERY_WAIT = timedelta(minutes=10)   # a 'sent' row younger than this still counts as pending
STATUSES = queries.STATUS_ORDER
RESENDABLE = ("not_sent", "failed")     # what "send again" takes


class NotFound(LookupError):
    """No such broadcast."""


class NothingToResend(ValueError):
    """The broadcast has no recipient that ended not sent or failed."""


def start(settings, text, numbers, duplicates, mode=pacing.SPREAD, parent_id=None, list_id=None):
    """Store a broadcast to numbers (phones.Number list), each with its delay in the pacing mode, and queue its
    work; returns its id."""
    delays = pacing.delays(mode, len(numbers), settings.delay_range)
    nonce = fanout.new_nonce() if mode == pacing.SERIAL else None
    broadcast_id, (low, high) = create(text, numbers, duplicates, delays, mode=mode, nonce=nonce,
                                       parent_id=parent_id, list_id=list_id)
    fanout.start(settings, broadcast_id, low, high, mode, nonce)
    return broadcast_id


def create(text, numbers, duplicates, delays, now=None, mode=pacing.SPREAD, nonce=None, parent_id=None,
           list_id=None):
    """Store the broadcast and its recipients in one transaction; returns (broadcast id, (lowest, highest id))."""
    with db.mysql_transaction() as cur:
        return _insert(cur, text, numbers, duplicates, delays, now, mode, nonce, parent_id, list_id)


def _insert(cur, text, numbers, duplicates, delays, now=None, mode=pacing.SPREAD, nonce=None, parent_id=None,
            list_id=None):
    now = now or utcnow()
    cur.execute(queries.INSERT_BROADCAST, (text, len(numbers), duplicates, now, mode, nonce, parent_id, list_id))
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
        _with_counts(cur, rows)
    return rows, total


def of_list(list_id, limit=LIST_PAGE):
    """A contact list's history: the broadcasts sent to it, newest first, with their counts."""
    with db.mysql_transaction() as cur:
        cur.execute(queries.LIST_BROADCASTS_OF_LIST, (list_id, limit))
        rows = cur.fetchall()
        _with_counts(cur, rows)
    return rows


def detail(broadcast_id, page=1, status=None, now=None):
    """The broadcast, its counts per status, whether anything is pending, when it finishes, the broadcast that
    sends it again, and one page of recipients."""
    now = now or utcnow()
    with db.mysql_transaction() as cur:
        cur.execute(queries.GET_BROADCAST, (broadcast_id,))
        broadcast = cur.fetchone()
        if broadcast is None:
            raise NotFound(broadcast_id)
        broadcast["counts"] = _counts(cur, [broadcast_id]).get(broadcast_id, {})
        cur.execute(queries.PENDING_COUNT, (broadcast_id, now - DELIVERY_WAIT))
        broadcast["pending"] = cur.fetchone()["n"]
        cur.execute(queries.LAST_DUE, (broadcast_id,))
        broadcast["finish_at"] = broadcast["created_at"] + timedelta(seconds=cur.fetchone()["last"] or 0)
        cur.execute(queries.CHILD_OF, (broadcast_id,))
        child = cur.fetchone()
        broadcast["resent_as"] = child["id"] if child else None
        offset = (page - 1) * RECIPIENT_PAGE
        if status:
            cur.execute(queries.RECIPIENTS_PAGE_BY_STATUS, (broadcast_id, status, RECIPIENT_PAGE, offset))
        else:
            cur.execute(queries.RECIPIENTS_PAGE, (broadcast_id, RECIPIENT_PAGE, offset))
        recipients = cur.fetchall()
    counts = broadcast["counts"]
    broadcast["cancellable"] = not broadcast["cancelled_at"] and bool(counts.get("queued") or counts.get("sending"))
    broadcast["resendable"] = sum(counts.get(s, 0) for s in RESENDABLE)
    shown = counts.get(status, 0) if status else broadcast["recipient_count"]
    broadcast["pages"] = max(1, -(-shown // RECIPIENT_PAGE))
    return broadcast, recipients


def cancel(broadcast_id, now=None):
    """Cancel a broadcast: its recipients not yet sent become 'cancelled' at once, its pacing stops, and a sender
    holding one of them re-checks before calling ChatApp. Returns how many were cancelled now (0 the second time)."""
    now = now or utcnow()
    with db.mysql_transaction() as cur:
        if not cur.execute(queries.LOCK_BROADCAST, (broadcast_id,)):
            raise NotFound(broadcast_id)
        cur.execute(queries.CANCEL_BROADCAST, (now, broadcast_id))
        return cur.execute(queries.CANCEL_QUEUED, (sender.CANCELLED, sender.EXPLANATIONS[sender.CANCELLED], now, now,
                                                   broadcast_id))


def resend(settings, broadcast_id):
    """Send a broadcast again, as a new broadcast linked to it (same text, same pacing, same list), to the numbers
    that ended not sent or failed. One per broadcast: a second click (or a double click) gets the first one's id."""
    with db.mysql_transaction() as cur:
        # The original's row lock orders two clicks: the second waits here, then finds the first one's broadcast.
        if not cur.execute(queries.LOCK_BROADCAST, (broadcast_id,)):
            raise NotFound(broadcast_id)
        original = cur.fetchone()
        cur.execute(queries.CHILD_OF, (broadcast_id,))
        child = cur.fetchone()
        if child:
            return child["id"]
        cur.execute(queries.RESEND_NUMBERS, (broadcast_id,))
        numbers = [phones.Number(row["line_no"], row["raw"], row["phone"]) for row in cur.fetchall()]
        if not numbers:
            raise NothingToResend(broadcast_id)
        mode = original["pacing"]
        nonce = fanout.new_nonce() if mode == pacing.SERIAL else None
        new_id, (low, high) = _insert(cur, original["text"], numbers, 0,
                                      pacing.delays(mode, len(numbers), settings.delay_range), mode=mode,
                                      nonce=nonce, parent_id=broadcast_id, list_id=original["list_id"])
    fanout.start(settings, new_id, low, high, mode, nonce)
    return new_id


def _with_counts(cur, rows):
    counts = _counts(cur, [r["id"] for r in rows])
    for row in rows:
        row["counts"] = counts.get(row["id"], {})


def _counts(cur, ids):
    if not ids:
        return {}
    cur.execute(queries.STATUS_COUNTS, (tuple(ids),))
    out = {}
    for row in cur.fetchall():
        out.setdefault(row["broadcast_id"], {})[row["status"]] = row["n"]
    return out
