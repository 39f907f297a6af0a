"""Mailing rows in and out of PostgreSQL, and the rules for changing or deleting them."""
from common import rows
from common.i18n import N_
from common.web import AppError, not_found

from .. import queries
from . import model


def public(mailing):
    """The API's view of a mailing."""
    window = None
    if mailing["window_start"] is not None:
        window = {"start": mailing["window_start"].strftime("%H:%M"), "end": mailing["window_end"].strftime("%H:%M")}
    return {
        "id": mailing["id"], "start": mailing["start_at"].isoformat(), "end": mailing["end_at"].isoformat(),
        "text": mailing["text"],
        "filter": {"operator_codes": list(mailing["operator_codes"]), "tags": list(mailing["tags"])},
        "window": window, "state": state(mailing), "created_at": mailing["created_at"].isoformat(),
    }


def state(mailing):
    """scheduled (waiting for its start), starting (messages being created), started (all queued)."""
    return {"pending": "scheduled", "dispatching": "starting", "done": "started"}[mailing["dispatch_state"]]


def started(mailing, now):
    return mailing["dispatch_state"] != "pending" or mailing["start_at"] <= now


def create(cur, body):
    values = model.parse(body)
    cur.execute(queries.INSERT_MAILING, _params(values))
    return rows.one(cur)


def get(cur, mailing_id, lock=False, deleted_too=False):
    """The mailing (locked with lock=True); deleted_too: a deleted one as well (its statistics)."""
    query = queries.MAILING_FOR_UPDATE if lock else queries.MAILING_IN_HISTORY if deleted_too else queries.MAILING_BY_ID
    cur.execute(query, (mailing_id,))
    found = rows.one(cur)
    if found is None:
        raise not_found(N_("no such mailing"))
    return found


def list_page(cur, after, limit):
    cur.execute(queries.LIST_MAILINGS, (after, limit))
    items = rows.all(cur)
    return items, (items[-1]["id"] if len(items) == limit else None)


def update(cur, mailing_id, body, now):
    """Apply a change; the row is locked so a dispatcher cannot start it half-changed."""
    current = get(cur, mailing_id, lock=True)
    values = model.parse(body, current, started=started(current, now))
    cur.execute(queries.UPDATE_MAILING, _params(values) + (mailing_id,))
    return current, rows.one(cur)


def delete(cur, mailing_id, now):
    """A mailing can go before it starts or after it ended; while it runs, move its end to stop it."""
    current = get(cur, mailing_id, lock=True)
    if started(current, now) and current["end_at"] > now:
        raise AppError(409, N_("the mailing is running: set its end to now to stop it, then delete it"),
                       field="id")
    cur.execute(queries.DELETE_MAILING, (mailing_id,))
    return current


def _params(values):
    return (values["start_at"], values["end_at"], values["text"], values["operator_codes"], values["tags"],
            values["window_start"], values["window_end"])
