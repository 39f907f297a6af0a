"""Overall stats (one query over every mailing), one mailing's stats, and the daily email's text."""
from datetime import datetime, timedelta

from common import aws, db, rows
from common.log import get_logger

from ..clients import store as clients
from ..mailings import store as mailings
from ..mailings.store import public
from .. import queries, settings

log = get_logger(__name__)

STATUSES = ("processing", "sent", "error", "expired")


def overall(cur):
    """Every mailing with its message counts by status."""
    cur.execute(queries.OVERALL_STATS)
    out = []
    for mailing in rows.all(cur):
        counts = {status: int(mailing.pop(status)) for status in STATUSES}
        out.append(dict(public(mailing), counts=dict(counts, total=sum(counts.values())),
                        deleted=mailing["deleted_at"] is not None))
    return out


def overall_stats():
    with db.pg_transaction() as cur:
        return overall(cur)


def mailing_stats(mailing_id, after, limit, deleted_too=False):
    """A mailing, its counts and a page of its messages (keyset by id); deleted_too: a deleted mailing's as well
    (the admin page shows its history; the API answers 404 for a deleted resource, as for any other)."""
    with db.pg_transaction() as cur:
        mailing = mailings.get(cur, mailing_id, deleted_too=deleted_too)
        messages, next_after = messages_page(cur, mailing_id, after, limit)
        found = counts(cur, mailing_id)
    return {"mailing": dict(public(mailing), deleted=mailing["deleted_at"] is not None), "counts": found,
            "messages": messages, "next_after": next_after}


def progress(mailing_id):
    """What the admin page's mailing view polls: its state and counts."""
    with db.pg_transaction() as cur:
        mailing = mailings.get(cur, mailing_id, deleted_too=True)
        found = counts(cur, mailing_id)
    return {"state": mailings.state(mailing), "counts": found}


def dashboard(client_limit):
    """The admin page's overview: every mailing with counts, the first clients, whether there are more."""
    with db.pg_transaction() as cur:
        client_page = clients.list_page(cur, 0, client_limit)
        return {"mailings": overall(cur), "clients": client_page["items"],
                "more_clients": client_page["next_after"] is not None}


def counts(cur, mailing_id):
    cur.execute(queries.MAILING_COUNTS, (mailing_id,))
    found = dict.fromkeys(STATUSES, 0)
    for status, n in cur.fetchall():
        found[status] = int(n)
    return dict(found, total=sum(found.values()))


def messages_page(cur, mailing_id, after, limit):
    cur.execute(queries.MAILING_MESSAGES, (mailing_id, after, limit))
    items = []
    for message in rows.all(cur):
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


def send_daily(now):
    """The daily statistics email to the operators (SES); False when no recipient is configured."""
    config = settings.load()
    with db.pg_transaction() as cur:
        text = daily_text(overall(cur), now, now - timedelta(days=1))
    if not config.report_recipients:
        log.info("no report recipients configured")
        return False
    config.need("report_sender")
    aws.client("ses").send_email(
        Source=config.report_sender, Destination={"ToAddresses": list(config.report_recipients)},
        Message={"Subject": {"Data": f"Notifications: daily statistics {now:%Y-%m-%d}", "Charset": "UTF-8"},
                 "Body": {"Text": {"Data": text, "Charset": "UTF-8"}}})
    return True
