"""Validation of a mailing's fields and of what may change once it has started."""
import re
from datetime import datetime, time, timezone

from common.i18n import N_
from common.web import AppError, bad_request

FIELDS = ("start", "end", "text", "filter", "window")
MAX_TEXT = 2000
MAX_FILTER_ITEMS = 100
# RFC 3339 (what OpenAPI's date-time means); Python alone would also take "20300101T1000+0300" and friends.
_MOMENT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
                     r"([Zz]|[+-][0-9]{2}:[0-9]{2})")
_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
# Once a mailing has started its messages exist: only its end (extend, or stop it early) and the text of
# messages not sent yet may change. Its start, audience and window are fixed.
CHANGEABLE_AFTER_START = ("end", "text")


def moment(value, field):
    """A timezone-aware datetime from ISO 8601 text with an offset."""
    if not isinstance(value, str) or len(value) > 40 or not _MOMENT.fullmatch(value):
        raise bad_request(N_("%(name)s must be an ISO 8601 date-time with a time zone offset "
                             "(2030-01-01T09:00:00+03:00)"), field=field, name=field)
    try:
        fraction = re.search(r"\.([0-9]+)", value)
        if fraction and len(fraction.group(1)) > 6:       # Python reads microseconds at most
            value = value.replace(fraction.group(0), "." + fraction.group(1)[:6])
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00").replace("t", "T"))
    except ValueError:
        raise bad_request(N_("%(name)s must be an ISO 8601 date-time with a time zone offset"), field=field,
                          name=field) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise bad_request(N_("%(name)s needs a time zone offset (e.g. +03:00 or Z)"), field=field, name=field)
    if not 2000 <= parsed.year <= 2200:
        raise bad_request(N_("%(name)s must be between the years 2000 and 2200"), field=field, name=field)
    # The same instant in UTC: RFC 3339 allows any offset up to 23:59, PostgreSQL only up to 15:59 (a "-19:16"
    # that reached it as written was a 500).
    return parsed.astimezone(timezone.utc)


def text(value):
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise bad_request(N_("text must be non-empty text of at most 2000 characters"), field="text")
    return value


def client_filter(value):
    """{"operator_codes": [...], "tags": [...]}; empty or missing lists match every client."""
    if not isinstance(value, dict):
        raise bad_request(N_("filter must be an object with operator_codes and/or tags"), field="filter")
    for name in value:
        if name not in ("operator_codes", "tags"):
            raise bad_request(N_("unknown field filter.%(name)s"), field="filter." + str(name)[:40],
                              name=str(name)[:40])
    codes = _items(value.get("operator_codes", []), "filter.operator_codes")
    for code in codes:
        if not re.fullmatch(r"[0-9]{3}", code):
            raise bad_request(N_("filter.operator_codes must be 3-digit codes"), field="filter.operator_codes")
    tags = _items(value.get("tags", []), "filter.tags")
    if any(len(tag) > 64 for tag in tags):
        raise bad_request(N_("filter.tags must be texts of at most 64 characters"), field="filter.tags")
    return sorted(set(codes)), sorted(set(tags))


def _items(value, field):
    if not isinstance(value, list) or len(value) > MAX_FILTER_ITEMS or not all(isinstance(v, str) for v in value):
        raise bad_request(N_("%(name)s must be a list of at most 100 texts"), field=field, name=field)
    return value


def window(value):
    """(start, end) local times from {"start": "09:00", "end": "21:00"} (may cross midnight), or (None, None)."""
    if value is None:
        return None, None
    if not isinstance(value, dict) or set(value) != {"start", "end"}:
        raise bad_request('window must be {"start": "HH:MM", "end": "HH:MM"} or null', field="window")
    bounds = []
    for name in ("start", "end"):
        match = _TIME.fullmatch(value[name]) if isinstance(value[name], str) else None
        if match is None:
            raise bad_request(N_("window.%(name)s must be a time HH:MM"), field="window." + name, name=name)
        bounds.append(time(int(match.group(1)), int(match.group(2))))
    if bounds[0] == bounds[1]:
        raise bad_request(N_("window.start and window.end must differ (omit the window to send at any time)"),
                          field="window")
    return tuple(bounds)


def parse(body, current=None, started=False):
    """The stored fields of a mailing from a request body; with `current`, only the given fields change."""
    for name in body:
        if name not in FIELDS:
            raise bad_request(N_("unknown field %(name)s"), field=name, name=name)
    if current is None:
        for name in ("start", "end", "text"):
            if name not in body:
                raise bad_request(N_("%(name)s is required"), field=name, name=name)
    if started:
        for name in body:
            if name not in CHANGEABLE_AFTER_START:
                raise AppError(409, N_("the mailing has started: only end and text may change, not %(name)s"),
                               params={"name": name}, field=name)
    values = dict(current or {})
    if "start" in body:
        values["start_at"] = moment(body["start"], "start")
    if "end" in body:
        values["end_at"] = moment(body["end"], "end")
    if "text" in body:
        values["text"] = text(body["text"])
    if "filter" in body:
        values["operator_codes"], values["tags"] = client_filter(body["filter"])
    elif current is None:
        values["operator_codes"], values["tags"] = [], []
    if "window" in body or current is None:
        values["window_start"], values["window_end"] = window(body.get("window"))
    if values["end_at"] <= values["start_at"]:
        raise bad_request(N_("end must be after start"), field="end")
    return values
