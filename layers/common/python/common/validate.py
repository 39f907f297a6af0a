"""Checks every product applies to what a caller sends: JSON bodies of bounded size and depth, text without
NUL or unpaired surrogates and of bounded length, whole numbers in a range, lists of bounded text.

Each check returns the clean value or raises web.AppError: 413 for a body over its size, 400 otherwise,
always with `field` naming what to fix (the JSON error carries it; pages translate the message with
common's catalog). PostgreSQL text cannot hold NUL and UTF-8 cannot encode a lone surrogate: left
unchecked, both surface as database errors (a 500 or a 503) instead of the caller's mistake.
"""
import json

from .i18n import N_
from .web import AppError

MAX_DEPTH = 32                  # no request of ours nests deeper than a few levels
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
MESSAGES = (NOT_JSON, NOT_OBJECT, TOO_DEEP, TOO_LARGE, NOT_TEXT, MISSING, TOO_LONG, BAD_CHARACTER, NOT_SINGLE_LINE,
            NOT_INTEGER, NOT_LIST)


def refuse(message, field, status=400, **params):
    """The error for a bad field: its name is both the JSON `field` and the message's %(field)s."""
    return AppError(status, message, params=dict(params, field=field), field=field)


def too_large(max_bytes, field=BODY):
    """413 naming the field that is over its size."""
    return refuse(TOO_LARGE, field, status=413, max=max_bytes)


def json_object(raw, max_bytes, max_depth=MAX_DEPTH):
    """The body (bytes or text) parsed as a JSON object no larger than max_bytes and no deeper than max_depth."""
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
