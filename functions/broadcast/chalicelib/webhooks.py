"""ChatApp messageStatus callbacks: parse a batch and move each known message's status forward."""
import json

from common import db, validate
from common.log import get_logger
from common.passwords import same
from common.web import AppError, bad_request

from . import queries
from .clock import from_unix, utcnow

log = get_logger(__name__)
MAX_BODY_BYTES = 1024 * 1024     # ChatApp sends batches of status events, far below this
MAX_DEPTH = 8
MAX_EVENTS = 1000
# ChatApp's event types -> our statuses ("viewed" is what ChatApp calls read).
TYPES = {"sent": "sent", "delivered": "delivered", "viewed": "read", "read": "read", "failed": "failed",
         "error": "failed"}


def secret_ok(settings, given):
    """Constant-time check of the ?secret= query value; an unset secret accepts nothing."""
    if not settings.webhook_secret or not given:
        return False
    return same(given, settings.webhook_secret)


def parse(raw_body):
    """The list of status events in a raw callback body; AppError(400/413) naming the field if it is not one."""
    payload = validate.json_object(raw_body, MAX_BODY_BYTES, max_depth=MAX_DEPTH, clean=False)  # events: one by one
    events = payload.get("data")
    if not isinstance(events, list) or len(events) > MAX_EVENTS:
        raise bad_request(f'expected {{"data": [at most {MAX_EVENTS} events], "meta": {{...}}}}', field="data")
    return events


def apply(events, now=None):
    """Apply the events; returns {"updated": n, "ignored": n} (unknown ids and types are ignored)."""
    now = now or utcnow()
    updated = ignored = 0
    with db.mysql_transaction() as cur:
        for event in events:
            change = _change(event, now)
            if change is None:
                ignored += 1
                continue
            if cur.execute(queries.APPLY_STATUS[change["status"]], change):
                updated += 1
            else:
                ignored += 1
    if ignored:
        log.info("webhook events applied", updated=updated, ignored=ignored)
    return {"updated": updated, "ignored": ignored}


def _change(event, now):
    """The parameters of one status update, or None for an event we cannot use."""
    if not isinstance(event, dict) or not isinstance(event.get("id"), (str, int)):
        return None
    message_id = str(event["id"])
    if not _storable(message_id) or len(message_id) > 64:
        return None             # not an id we ever stored
    # The error text is only shown: characters MySQL cannot take (lone surrogates) become "?".
    error = _error_text(event.get("error")).encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
    status = "failed" if error else TYPES.get(str(event.get("type", "")).lower())
    if status is None:
        return None
    code, _, message = error.partition(": ") if error else ("", "", "")
    return {"status": status, "message_id": message_id, "time": _event_time(event.get("time"), now),
            "error_code": (code or "DeliveryFailed")[:100], "error_message": (message or error)[:1000], "now": now}


def _storable(text):
    try:
        validate.clean_text(text, "id")
    except AppError:
        return False
    return True


def _error_text(error):
    """'Code: message' from whatever shape the error has; '' for none."""
    if not error:
        return ""
    if isinstance(error, dict):
        code, message = error.get("code"), error.get("message") or error.get("description")
        return ": ".join(str(x) for x in (code, message) if x) or json.dumps(error)[:500]
    return str(error)


def _event_time(value, now):
    try:
        return from_unix(value) if value not in (None, "") else now
    except (TypeError, ValueError, OverflowError, OSError):
        return now
