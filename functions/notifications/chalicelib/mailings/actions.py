"""What an operator does with mailings (API and admin page alike), each in its own transaction; after the
commit (a dispatcher must find the row) the mailing's start is arranged or its schedule removed."""
from common import db
from common.i18n import N_
from common.log import get_logger
from common.web import AppError

from .. import audit, settings
from . import schedules, store

log = get_logger(__name__)
API_SETTINGS = ("dispatch_queue_url", "dispatcher_arn", "scheduler_role_arn", "schedule_prefix")


def list_page(after, limit):
    with db.pg_transaction() as cur:
        items, next_after = store.list_page(cur, after, limit)
    return {"items": [store.public(m) for m in items], "next_after": next_after}


def create(body, now, operator):
    with db.pg_transaction() as cur:
        mailing = store.create(cur, body)
    shown = store.public(mailing)
    audit.record("mailing created", operator, audit.changes(audit.MAILING_FIELDS, None, shown),
                 mailing_id=mailing["id"])
    _arrange(mailing, now)
    return shown


def get(mailing_id):
    with db.pg_transaction() as cur:
        return store.public(store.get(cur, mailing_id))


def update(mailing_id, body, now, operator):
    with db.pg_transaction() as cur:
        before, mailing = store.update(cur, mailing_id, body, now)
    changed = audit.changes(audit.MAILING_FIELDS, store.public(before), store.public(mailing))
    audit.record("mailing changed", operator, changed, mailing_id=mailing_id)
    if before["start_at"] != mailing["start_at"] or before["end_at"] != mailing["end_at"]:
        _arrange(mailing, now)
    return store.public(mailing)


def delete(mailing_id, now, operator):
    with db.pg_transaction() as cur:
        store.delete(cur, mailing_id, now)
    audit.record("mailing deleted", operator, mailing_id=mailing_id)
    _unschedule(mailing_id)


def stop(mailing_id, now, operator):
    """A running mailing ends now: nothing more is sent (the sender re-checks the end before each call)."""
    with db.pg_transaction() as cur:
        current = store.get(cur, mailing_id, lock=True)
        if not store.started(current, now) or current["end_at"] <= now:
            raise AppError(409, N_("the mailing is not running"), field="id")
        before, mailing = store.update(cur, mailing_id, {"end": now.isoformat()}, now)
    changed = audit.changes(audit.MAILING_FIELDS, store.public(before), store.public(mailing))
    audit.record("mailing stopped", operator, changed, mailing_id=mailing_id)
    _arrange(mailing, now)
    return store.public(mailing)


def _arrange(mailing, now):
    """A failure here is logged, not fatal: the minute sweep starts every due mailing anyway."""
    try:
        result = schedules.arrange(settings.load().need(*API_SETTINGS), mailing, now)
        log.info("mailing start arranged: %s", result, mailing_id=mailing["id"])
    except Exception:  # noqa: BLE001 - the sweep is the backstop
        log.exception("could not arrange the mailing's start; the sweep will start it", mailing_id=mailing["id"])


def _unschedule(mailing_id):
    try:
        schedules.remove(settings.load().need(*API_SETTINGS), mailing_id)
    except Exception:  # noqa: BLE001 - a leftover schedule finds no mailing and does nothing
        log.exception("could not delete the mailing's schedule", mailing_id=mailing_id)
