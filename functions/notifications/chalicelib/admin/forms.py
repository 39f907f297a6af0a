"""HTML form fields turned into the API's bodies, so the page and the API share every rule."""
from datetime import datetime
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from common.i18n import N_
from common.web import bad_request

from ..clients import model as client_model

MAX_FORM = 16 * 1024


def fields(raw_body):
    """Form fields (last value wins), 400 for an oversized or undecodable body."""
    raw = raw_body or b""
    if len(raw) > MAX_FORM:
        raise bad_request(N_("The form is too large."))
    try:
        parsed = parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise bad_request(N_("The form could not be read; send it again.")) from None
    form = {name: values[-1].strip() for name, values in parsed.items()}
    if any("\x00" in name or "\x00" in value for name, value in form.items()):
        raise bad_request(N_("The form could not be read; send it again."))
    return form


def client_body(form):
    body = {"phone": form.get("phone", ""), "timezone": form.get("timezone", "")}
    if form.get("tag"):
        body["tag"] = form["tag"]
    return body


def mailing_body(form):
    """datetime-local start/end are read in the zone the operator picked (the form's `zone`)."""
    zone_name = form.get("zone") or "Europe/Moscow"
    if zone_name not in client_model.timezones():
        raise bad_request(N_("Choose a valid time zone for the start and end."), field="zone")
    zone = ZoneInfo(zone_name)
    body = {"text": form.get("text", "")}
    for name in ("start", "end"):
        try:
            moment = datetime.fromisoformat(form.get(name, ""))
        except ValueError:
            raise bad_request(N_("Enter the start and end as date and time."), field=name) from None
        body[name] = moment.replace(tzinfo=zone).isoformat() if moment.tzinfo is None else moment.isoformat()
    body["filter"] = {"operator_codes": _list(form.get("operator_codes")), "tags": _list(form.get("tags"))}
    if form.get("window_start") or form.get("window_end"):
        body["window"] = {"start": form.get("window_start", ""), "end": form.get("window_end", "")}
    return body


def _list(text):
    return [part.strip() for part in (text or "").split(",") if part.strip()]
