"""Validation of a client's fields; every error names the field."""
import functools
import re
import zoneinfo

from common.i18n import N_
from common.web import bad_request

PHONE = re.compile(r"7[0-9]{10}")
CODE = re.compile(r"[0-9]{3}")
MAX_TAG = 64
FIELDS = ("phone", "operator_code", "tag", "timezone")


@functools.lru_cache(maxsize=1)
def timezones():
    """Every IANA zone name known to this runtime (the tzdata package on Lambda)."""
    return frozenset(zoneinfo.available_timezones())


def phone(value):
    """'7XXXXXXXXXX' (text, as the API documents it)."""
    text = value if isinstance(value, str) else ""
    if not PHONE.fullmatch(text):
        raise bad_request(N_("phone must be 11 digits starting with 7 (7XXXXXXXXXX)"), field="phone")
    return text


def timezone(value):
    if not isinstance(value, str) or value not in timezones():
        raise bad_request(N_("timezone must be an IANA time zone name such as Europe/Moscow"), field="timezone")
    return value


def tag(value):
    if not isinstance(value, str) or len(value) > MAX_TAG or any(ord(ch) < 32 for ch in value):
        raise bad_request(N_("tag must be text of at most 64 characters without control characters"), field="tag")
    return value


def derived_code(phone_number):
    """The code a number was issued with: the 3 digits after the 7."""
    return phone_number[1:4]


def operator_code(value):
    """A given code: 3 digits. It may differ from the phone's own (a number ported to another operator)."""
    if not isinstance(value, str) or not CODE.fullmatch(value):
        raise bad_request(N_("operator_code must be 3 digits"), field="operator_code")
    return value


def _code(body, number, merged):
    """The given code; else the phone's own when the phone is new or changes, else the stored one (a PATCH of
    the tag keeps a ported number's code)."""
    if "operator_code" in body:
        return operator_code(body["operator_code"])
    if not merged or merged.get("phone") != number:
        return derived_code(number)
    return merged["operator_code"]


def parse(body, current=None):
    """A full client from a request body; with `current` (a dict), only the given fields change."""
    for name in body:
        if name not in FIELDS:
            raise bad_request(N_("unknown field %(name)s"), field=name, name=name)
    merged = dict(current or {})
    if current is None:
        for name in ("phone", "timezone"):
            if name not in body:
                raise bad_request(N_("%(name)s is required"), field=name, name=name)
    number = phone(body["phone"]) if "phone" in body else merged["phone"]
    return {
        "phone": number,
        "operator_code": _code(body, number, merged),
        "tag": tag(body["tag"]) if "tag" in body else merged.get("tag", ""),
        "timezone": timezone(body["timezone"]) if "timezone" in body else merged["timezone"],
    }
