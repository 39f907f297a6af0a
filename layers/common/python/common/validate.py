"""Checks every product applies to what a caller sends: JSON bodies of bounded size and depth, form bodies
(UTF-8 or a named character set), text without NUL or unpaired surrogates and of bounded length, whole
numbers in a range (path ids, query numbers), dates in a range, lists of bounded text.

Each check returns the clean value or raises web.AppError: 413 for a body over its size, 400 otherwise,
always with `field` naming what to fix (the JSON error carries it; pages translate the message with
common's catalog). PostgreSQL text cannot hold NUL and UTF-8 cannot encode a lone surrogate: left
unchecked, both surface as database errors (a 500 or a 503) instead of the caller's mistake.
"""
import datetime
import json
import re
from urllib.parse import parse_qsl

from .i18n import N_
from .web import AppError

MAX_DEPTH = 32                  # no request of ours nests deeper than a few levels
MAX_ID = 2 ** 63 - 1            # PostgreSQL's bigint: a larger id cannot exist, and would not bind
MAX_FORM_FIELDS = 100
# Dates a person means: from the Unix epoch to a year before datetime's end, so that a day (or a time zone)
# can be added to a date in range without an OverflowError.
EARLIEST_DATE, LATEST_DATE = datetime.date(1970, 1, 1), datetime.date(9998, 12, 31)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
BODY = "body"

NOT_JSON = N_("The request body is not valid JSON.")
NOT_OBJECT = N_("The request body must be a JSON object.")
TOO_DEEP = N_("The request body is nested deeper than %(max)s levels.")
TOO_LARGE = N_("The request body is larger than %(max)s bytes.")
NOT_TEXT = N_("%(field)s must be text.")
MISSING = N_("%(field)s is required.")
TOO_LONG = N_("%(field)s is longer than %(max)s characters.")
BAD_CHARACTER = N_("%(field)s contains a character that is not allowed (NUL or an unpaired surrogate).")
NOT_SINGLE_LINE = N_("%(field)s must be a single line.")
NOT_INTEGER = N_("%(field)s must be a whole number from %(min)s to %(max)s.")
NOT_LIST = N_("%(field)s must be a list of at most %(max)s texts.")
NOT_DATE = N_("%(field)s must be a date like 2026-01-31, from %(min)s to %(max)s.")
BAD_CHARSET = N_("%(field)s is not text in a character set that can be read.")
NOT_FORM = N_("The form could not be read: it must be UTF-8 text with at most %(max)s fields.")
UNKNOWN_FIELD = N_("%(field)s is not a field of this request.")
MESSAGES = (NOT_JSON, NOT_OBJECT, TOO_DEEP, TOO_LARGE, NOT_TEXT, MISSING, TOO_LONG, BAD_CHARACTER, NOT_SINGLE_LINE,
            NOT_INTEGER, NOT_LIST, NOT_DATE, BAD_CHARSET, NOT_FORM, UNKNOWN_FIELD)


def refuse(message, field, status=400, **params):
    """The error for a bad field: its name is both the JSON `field` and the message's %(field)s."""
    return AppError(status, message, params=dict(params, field=field), field=field)


def too_large(max_bytes, field=BODY):
    """413 naming the field that is over its size."""
    return refuse(TOO_LARGE, field, status=413, max=max_bytes)


def json_object(raw, max_bytes, max_depth=MAX_DEPTH, clean=True):
    """The body (bytes or text) parsed as a JSON object no larger than max_bytes and no deeper than max_depth;
    with clean, every key and text in it carries no NUL or unpaired surrogate (a refusal names the field that
    holds it, e.g. "filter.tags"), so no part of it can fail later in the database or in an encoder."""
    if raw is None or len(raw) == 0:
        raise refuse(NOT_OBJECT, BODY)
    if len(raw) > max_bytes:
        raise too_large(max_bytes)
    try:
        value = json.loads(raw)
    except RecursionError:
        raise refuse(TOO_DEEP, BODY, max=max_depth) from None
    except ValueError:          # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise refuse(NOT_JSON, BODY) from None
    if not isinstance(value, dict):
        raise refuse(NOT_OBJECT, BODY)
    if depth(value) > max_depth:
        raise refuse(TOO_DEEP, BODY, max=max_depth)
    if clean:
        for key, item in value.items():
            clean_text(key, BODY)
            clean_texts(item, key)
    return value


def known_fields(body, allowed):
    """400 naming the first field of a JSON object that is not in allowed (a typo must not be ignored)."""
    for name in body:
        if name not in allowed:
            raise refuse(UNKNOWN_FIELD, name)
    return body


def clean_texts(value, field):
    """Every text (and key) inside a decoded JSON value is clean_text, without recursion; a refusal names where
    it is ("filter.tags": an object's member is named after its key, a list's item after the list)."""
    stack = [(value, field)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            clean_text(item, where)
        elif isinstance(item, dict):
            for key, member in item.items():
                clean_text(key, where)
                stack.append((member, f"{where}.{key}"))
        elif isinstance(item, list):
            stack.extend((member, where) for member in item)
    return value


def depth(value):
    """How deeply containers nest in a decoded JSON value (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def clean_text(value, field):
    """value if it is text UTF-8 can carry and PostgreSQL can store (no NUL, no unpaired surrogate)."""
    if not isinstance(value, str):
        raise refuse(NOT_TEXT, field)
    if "\x00" in value:
        raise refuse(BAD_CHARACTER, field)
    return encodable(value, field)


def encodable(value, field):
    """value if UTF-8 can encode it (no unpaired surrogate), for text that may hold a NUL its owner handles."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise refuse(BAD_CHARACTER, field) from None
    return value


def text(value, field, max_chars, required=True, single_line=False, strip=False):
    """Checked text of at most max_chars characters; None or "" is refused when required (else "")."""
    if value is None:
        value = ""
    value = clean_text(value, field)
    if strip:
        value = value.strip()
    if not value and required:
        raise refuse(MISSING, field)
    if len(value) > max_chars:
        raise refuse(TOO_LONG, field, max=max_chars)
    if single_line and ("\n" in value or "\r" in value):
        raise refuse(NOT_SINGLE_LINE, field)
    return value


def decoded(data, field, charset=None):
    """Bytes as clean text in the named character set (UTF-8 when none is named); an unknown character set
    or bytes that are not text in it are refused naming the field."""
    try:
        return clean_text(bytes(data).decode(charset or "utf-8"), field)
    except (LookupError, UnicodeDecodeError):
        raise refuse(BAD_CHARSET, field) from None


def charset_of(content_type):
    """The charset parameter of a Content-Type header (lowercase), or None."""
    for param in (content_type or "").split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower() or None
    return None


def form_fields(raw, max_bytes, content_type=None, max_fields=MAX_FORM_FIELDS, field=BODY, clean=True):
    """An application/x-www-form-urlencoded body (bytes or text) as {name: value} (the last value wins), each
    value clean text (a refusal names that field; without clean the caller checks every field it reads).
    413 over max_bytes; 400 naming `field` when the body is not text in its charset (UTF-8 unless the
    Content-Type names another one) or has more than max_fields."""
    raw = raw or b""
    if len(raw) > max_bytes:
        raise too_large(max_bytes, field)
    if isinstance(raw, (bytes, bytearray)):
        try:
            raw = bytes(raw).decode(charset_of(content_type) or "utf-8")
        except (LookupError, UnicodeDecodeError):
            raise refuse(NOT_FORM, field, max=max_fields) from None
    try:
        # Percent-escapes are decoded strictly as UTF-8: bytes that are not (or a lone surrogate) refuse the form.
        pairs = parse_qsl(raw, keep_blank_values=True, errors="strict", max_num_fields=max_fields)
    except ValueError:          # UnicodeDecodeError, or more than max_fields
        raise refuse(NOT_FORM, field, max=max_fields) from None
    if not clean:
        return dict(pairs)
    fields = {}
    for name, value in pairs:
        fields[clean_text(name, field)] = clean_text(value, name)
    return fields


def identifier(value, field="id", minimum=1, maximum=MAX_ID):
    """A database id from a path segment or a query value: ASCII digits only (no sign, space or other
    script's digits), minimum..maximum."""
    text_value = value if isinstance(value, str) else str(value) if isinstance(value, int) else ""
    if not (text_value.isascii() and text_value.isdigit() and len(text_value) <= 19
            and minimum <= int(text_value) <= maximum):
        raise refuse(NOT_INTEGER, field, min=minimum, max=maximum)
    return int(text_value)


def query_integer(query, name, default, minimum, maximum):
    """?name=N as a whole number minimum..maximum; default when the parameter is absent."""
    value = (query or {}).get(name)
    return default if value is None else integer(value, name, minimum, maximum)


def date(value, field, earliest=EARLIEST_DATE, latest=LATEST_DATE):
    """A calendar date written YYYY-MM-DD, earliest..latest (a datetime.date)."""
    found = None
    if isinstance(value, str) and _DATE.fullmatch(value.strip()):
        try:
            found = datetime.date.fromisoformat(value.strip())
        except ValueError:
            found = None
    if found is None or not earliest <= found <= latest:
        raise refuse(NOT_DATE, field, min=earliest.isoformat(), max=latest.isoformat())
    return found


def integer(value, field, minimum, maximum):
    """A whole number minimum..maximum from a JSON number or a decimal string (never a bool or a float)."""
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        digits = value.strip()
        unsigned = digits[1:] if digits[:1] in "+-" else digits
        if unsigned.isascii() and unsigned.isdigit() and len(unsigned) <= 19:
            number = int(digits)
    if number is None or not minimum <= number <= maximum:
        raise refuse(NOT_INTEGER, field, min=minimum, max=maximum)
    return number


def text_list(value, field, max_items, max_chars):
    """A list of at most max_items non-empty single-line texts (each stripped, at most max_chars)."""
    if not isinstance(value, list) or len(value) > max_items:
        raise refuse(NOT_LIST, field, max=max_items)
    items = [text(item, field, max_chars, single_line=True, strip=True) for item in value]
    return list(dict.fromkeys(items))
