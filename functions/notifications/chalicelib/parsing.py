"""Checks shared by the API and the admin pages: JSON bodies, ids, limits and cursors (400 naming the field)."""
import json

from common.i18n import N_
from common.web import bad_request

MAX_ID = 2 ** 63 - 1
MAX_BODY = 64 * 1024


def json_object(raw_body):
    """The request body as a JSON object; 400 for anything else."""
    if raw_body is None or len(raw_body) == 0:
        raise bad_request(N_("the request body must be a JSON object"), field="body")
    if len(raw_body) > MAX_BODY:
        raise bad_request(N_("the request body is too large (at most 64 KB)"), field="body")
    try:
        value = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        raise bad_request(N_("the request body is not valid JSON"), field="body") from None
    if not isinstance(value, dict):
        raise bad_request(N_("the request body must be a JSON object"), field="body")
    no_nul(value)
    return value


def no_nul(value, field="body"):
    """PostgreSQL text cannot hold U+0000: refuse it up front, naming the field, instead of failing later."""
    if isinstance(value, str):
        if "\x00" in value:
            raise bad_request(N_("%(name)s must not contain the NUL character"), field=field, name=field)
    elif isinstance(value, dict):
        for key, item in value.items():
            no_nul(key, field)
            no_nul(item, key if field == "body" else f"{field}.{key}")
    elif isinstance(value, list):
        for item in value:
            no_nul(item, field)


def unknown_fields(body, allowed):
    """400 for a field the resource does not have (a typo must not be silently ignored)."""
    for name in body:
        if name not in allowed:
            raise bad_request(N_("unknown field %(name)s"), field=name, name=name)


def resource_id(value, field="id"):
    """A positive 64-bit id from a path or query value."""
    text = str(value)
    if not text.isascii() or not text.isdigit() or len(text) > 19 or not 1 <= int(text) <= MAX_ID:
        raise bad_request(N_("%(name)s must be a positive whole number"), field=field, name=field)
    return int(text)


def page_params(query, default_limit=100, max_limit=1000):
    """(after_id, limit) from ?after=&limit= (keyset pagination by id)."""
    query = query or {}
    after = query.get("after")
    after = 0 if after is None else _bounded(after, "after", 0, MAX_ID)
    limit = query.get("limit")
    limit = default_limit if limit is None else _bounded(limit, "limit", 1, max_limit)
    return after, limit


def _bounded(text, field, low, high):
    if not text.isascii() or not text.isdigit() or len(text) > 19 or not low <= int(text) <= high:
        raise bad_request(N_("%(name)s must be a whole number from %(low)s to %(high)s"), field=field, name=field,
                          low=low, high=high)
    return int(text)
