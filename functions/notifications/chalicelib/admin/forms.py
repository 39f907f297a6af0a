"""HTML form fields turned into the API's bodies, so the page and the API share every rule."""
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from common import validate
from common.i18n import N_
from common.web import bad_request

from ..clients import model as client_model

MAX_FORM = 16 * 1024
MAX_IMPORT = 8 * 1024 * 1024        # a CSV of 100,000 clients is about 4 MB; API Gateway takes 10 MB
DEFAULT_ZONE = "Europe/Moscow"
SEARCH_FIELDS = ("phone", "operator_code", "tag", "timezone")


def fields(raw_body, content_type=None):
    """Form fields (last value wins, stripped); 413/400 naming the field for an oversized or unreadable body."""
    return {name: value.strip() for name, value in validate.form_fields(raw_body, MAX_FORM, content_type).items()}


def import_fields(raw_body, content_type=None):
    """The CSV import form: the pasted CSV may be large (MAX_IMPORT)."""
    return validate.form_fields(raw_body, MAX_IMPORT, content_type)


def client_body(form):
    body = {"phone": form.get("phone", ""), "timezone": form.get("timezone", "")}
    for name in ("tag", "operator_code"):
        if form.get(name):
            body[name] = form[name]
    return body


def _zone(form):
    zone_name = form.get("zone") or DEFAULT_ZONE
    if zone_name not in client_model.timezones():
        raise bad_request(N_("Choose a valid time zone for the start and end."), field="zone")
    return ZoneInfo(zone_name)


def _moment(form, name, zone):
    try:
        moment = datetime.fromisoformat(form.get(name, ""))
    except ValueError:
        raise bad_request(N_("Enter the start and end as date and time."), field=name) from None
    return moment.replace(tzinfo=zone).isoformat() if moment.tzinfo is None else moment.isoformat()


def local_time(iso_text, zone_name=DEFAULT_ZONE):
    """An API date-time as the value of a datetime-local field in the zone."""
    return datetime.fromisoformat(iso_text).astimezone(ZoneInfo(zone_name)).strftime("%Y-%m-%dT%H:%M")


def mailing_change(form, started):
    """The edit form as a change: after the start only the end and the text (what the rules allow); before it
    every field (an empty window removes it)."""
    zone = _zone(form)
    if started:
        return {"end": _moment(form, "end", zone), "text": form.get("text", "")}
    body = mailing_body(form)
    body.setdefault("window", None)
    return body


def started(mailing, now):
    """Whether an API mailing has started (then only its end and text may change)."""
    return mailing["state"] != "scheduled" or datetime.fromisoformat(mailing["start"]) <= now


def client_search(query):
    """The client search's filters from the query string ('' = any); 400 naming a malformed one."""
    query = query or {}
    filters = {name: (query.get(name) or "").strip() for name in SEARCH_FIELDS}
    if not re.fullmatch(r"[0-9]{0,11}", filters["phone"]):
        raise bad_request(N_("Search by the phone's first digits (up to 11)."), field="phone")
    if filters["operator_code"] and not re.fullmatch(r"[0-9]{3}", filters["operator_code"]):
        raise bad_request(N_("operator_code must be 3 digits"), field="operator_code")
    if len(filters["tag"]) > client_model.MAX_TAG or len(filters["timezone"]) > 64:
        raise bad_request(N_("tag must be text of at most 64 characters without control characters"), field="tag")
    return filters


def client_change(form):
    """The client edit form as a change of every field (an empty operator code: the phone's own)."""
    body = {"phone": form.get("phone", ""), "timezone": form.get("timezone", ""), "tag": form.get("tag", "")}
    if form.get("operator_code"):
        body["operator_code"] = form["operator_code"]
    return body


def mailing_body(form):
    """datetime-local start/end are read in the zone the operator picked (the form's `zone`)."""
    zone = _zone(form)
    body = {"text": form.get("text", "")}
    for name in ("start", "end"):
        body[name] = _moment(form, name, zone)
    body["filter"] = {"operator_codes": _list(form.get("operator_codes")), "tags": _list(form.get("tags"))}
    if form.get("window_start") or form.get("window_end"):
        body["window"] = {"start": form.get("window_start", ""), "end": form.get("window_end", "")}
    return body


def _list(text):
    return [part.strip() for part in (text or "").split(",") if part.strip()]
