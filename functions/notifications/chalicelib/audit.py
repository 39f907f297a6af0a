"""The trail of every change an operator makes to a client or a mailing (API and admin page alike): one JSON
log line each (common.log), with the operator, the ids as top-level fields (client_id / mailing_id: the local
console's log search and CloudWatch Logs Insights find them like the send logs) and what changed. Never a
message text (only whether it changed and its length) and never a phone number in full (masked)."""
from common.log import get_logger

log = get_logger("notifications.audit")
CLIENT_FIELDS = ("phone", "operator_code", "tag", "timezone")
MAILING_FIELDS = ("start", "end", "text", "filter", "window")


def mask_phone(phone):
    """79161234567 -> 7916*****67: enough to tell numbers apart in a trail, not to call one."""
    text = str(phone or "")
    return text[:4] + "*" * max(0, len(text) - 6) + text[-2:] if len(text) > 6 else "*" * len(text)


def _shown(field, value):
    if field == "phone":
        return mask_phone(value)
    if field == "text":
        return {"length": len(value or "")}
    return value


def changes(fields, before, after):
    """{field: {"from", "to"}} of the fields that differ (before None: a creation, only "to")."""
    out = {}
    for field in fields:
        old, new = (before or {}).get(field), (after or {}).get(field)
        if before is None:
            out[field] = {"to": _shown(field, new)}
        elif old != new:
            out[field] = {"from": _shown(field, old), "to": _shown(field, new)}
    return out


def record(action, operator, changed=None, **ids):
    """One trail line: action ("client created", "mailing changed", ...), who, ids, what changed."""
    operator = operator or {}
    log.info(action, audit=True, action=action, operator=operator.get("username"),
             operator_id=operator.get("id"), changed=changed or {}, **ids)
