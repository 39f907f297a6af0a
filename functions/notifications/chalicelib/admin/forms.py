"""HTML form fields turned into the API's bodies, so the page and the API share every rule."""
from datetime import datetime
from zoneinfo import ZoneInfo

from common import validate
from common.i18n import N_
from common.web import bad_request

from ..clients import model as client_model

MAX_FORM = 16 * 1024


def fields(raw_body, content_type=None):
    """Form fields (last value wins, stripped); 413/400 naming the field for an oversized or unreadable body."""
    return {name: value.strip() for name, value in validate.form_fields(raw_body, MAX_FORM, content_type).items()}


def client_body(form):
    body = {"phone": form.get("phone", ""), "timezone": form.get("timezone", "")}
    for name in ("tag", "operator_code"):
        if form.get(name):
            body[name] = form[name]
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
