"""Overall stats (one query over every mailing), one mailing's stats, and the daily email's text."""
from datetime import datetime

from ..mailings.store import COLUMNS as MAILING_COLUMNS, public, row
from .. import queries

STATUSES = ("processing", "sent", "error", "expired")
MESSAGE_COLUMNS = ("id", "created_at", "status", "mailing_id", "client_id", "attempts", "last_error", "sent_at")


def overall(cur):
    """Every mailing with its message counts by status."""
    cur.execute(queries.OVERALL_STATS)
    out = []
    for values in cur.fetchall():
        mailing = row(values[:len(MAILING_COLUMNS)])
        counts = dict(zip(STATUSES, (int(n) for n in values[len(MAILING_COLUMNS):])))
        out.append(dict(public(mailing), counts=dict(counts, total=sum(counts.values()))))
    return out


def counts(cur, mailing_id):
    cur.execute(queries.MAILING_COUNTS, (mailing_id,))
    found = dict.fromkeys(STATUSES, 0)
    for status, n in cur.fetchall():
        found[status] = int(n)
    return dict(found, total=sum(found.values()))


def messages_page(cur, mailing_id, after, limit):
    cur.execute(queries.MAILING_MESSAGES, (mailing_id, after, limit))
    items = []
    for values in cur.fetchall():
        message = dict(zip(MESSAGE_COLUMNS, values))
        for key in ("created_at", "sent_at"):
            message[key] = message[key].isoformat() if message[key] else None
        items.append(message)
    return items, (items[-1]["id"] if len(items) == limit else None)


def daily_text(mailings, now, since):
    """The daily email: every mailing that ran in the last day, with its counts."""
    active = [m for m in mailings if datetime.fromisoformat(m["end"]) > since or m["counts"]["processing"]]
    lines = [f"Notifications: statistics at {now.strftime('%Y-%m-%d %H:%M')} UTC", ""]
    if not active:
        lines.append("No mailing ran in the last 24 hours.")
    totals = dict.fromkeys(STATUSES + ("total",), 0)
    for mailing in active:
        c = mailing["counts"]
        lines.append(f"Mailing {mailing['id']} ({mailing['start']} - {mailing['end']}): "
                     f"{c['total']} messages, sent {c['sent']}, errors {c['error']}, expired {c['expired']}, "
                     f"in progress {c['processing']}")
        for key in totals:
            totals[key] += c[key]
    if active:
        lines += ["", f"Total: {totals['total']} messages, sent {totals['sent']}, errors {totals['error']}, "
                      f"expired {totals['expired']}, in progress {totals['processing']}"]
    return "\n".join(lines)
