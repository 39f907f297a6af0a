"""Turn raw request parts into checked plain values, or raise AppError(4xx) saying what is wrong."""
import re
from dataclasses import dataclass
from typing import Optional

from common import validate
from common.web import AppError

from . import pagination

FOLDERS = ("inbox", "sent")
MAX_SUBJECT_CHARS = 998                 # RFC 5322 line length limit for a header
MAX_BODY_BYTES = 1024 * 1024            # 1 MiB of UTF-8
MAX_REQUEST_BYTES = 8 * 1024 * 1024     # JSON escapes can inflate a 1 MiB body several times
MAX_DEPTH = 4                           # {"to": [...]} is 2 levels deep
MAX_RECIPIENTS = 100
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_ID = 2 ** 63 - 1
# Kept identical to the `Address` pattern in openapi.yaml (a test compares them).
ADDRESS_PATTERN = r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$"
MAX_ADDRESS_CHARS = 254
_ADDRESS = re.compile(ADDRESS_PATTERN)
_LETTER_FIELDS = {"to", "subject", "body"}


@dataclass(frozen=True)
class NewLetter:
    to: tuple           # normalized, de-duplicated addresses in the order given
    subject: str
    body: str


@dataclass(frozen=True)
class PageRequest:
    limit: int
    after: Optional[tuple]      # (created_at, id) of the last letter already seen, None = from the top
    unread_only: bool


def parse_json_object(raw_body):
    """The request body parsed as a JSON object (bounded in size and depth; errors name the field "body")."""
    # clean=False: each field is checked (and named) on its own below.
    return validate.json_object(raw_body, MAX_REQUEST_BYTES, max_depth=MAX_DEPTH, clean=False)


def normalize_address(value, field="address"):
    """A valid address, lower-cased (addresses are compared case-insensitively)."""
    if not isinstance(value, str):
        raise AppError(400, f"{field} must be a string", field=field)
    if len(value) > MAX_ADDRESS_CHARS or not _ADDRESS.fullmatch(value):
        raise AppError(400, f"{field} is not a valid email address", value=value[:MAX_ADDRESS_CHARS], field=field)
    return value.lower()


def parse_new_letter(payload):
    """A NewLetter from a decoded JSON object {to: [addresses], subject, body}."""
    unknown = sorted(set(payload) - _LETTER_FIELDS)
    if unknown:
        raise AppError(400, f"unknown fields: {', '.join(unknown)}", field=unknown[0])
    missing = sorted(_LETTER_FIELDS - set(payload))
    if missing:
        raise AppError(400, f"missing fields: {', '.join(missing)}", field=missing[0])
    to = payload["to"]
    if not isinstance(to, list) or not to:
        raise AppError(400, "to must be a non-empty array of addresses", field="to")
    if len(to) > MAX_RECIPIENTS:
        raise AppError(400, f"to has more than {MAX_RECIPIENTS} addresses", field="to")
    addresses = tuple(dict.fromkeys(normalize_address(a, "to[]") for a in to))
    subject = _text(payload["subject"], "subject")
    if len(subject) > MAX_SUBJECT_CHARS:
        raise AppError(400, f"subject is longer than {MAX_SUBJECT_CHARS} characters", field="subject")
    if "\r" in subject or "\n" in subject:
        raise AppError(400, "subject must be a single line", field="subject")
    body = _text(payload["body"], "body")
    if len(body) > MAX_BODY_BYTES or len(body.encode("utf-8")) > MAX_BODY_BYTES:
        raise AppError(413, f"body exceeds {MAX_BODY_BYTES} bytes of UTF-8", field="body")
    return NewLetter(addresses, subject, body)


def parse_read_flag(payload):
    """The new read flag from a decoded JSON object {read: bool}."""
    unknown = sorted(set(payload) - {"read"})
    if unknown:
        raise AppError(400, f"unknown fields: {', '.join(unknown)}", field=unknown[0])
    if "read" not in payload:
        raise AppError(400, "missing fields: read", field="read")
    if not isinstance(payload["read"], bool):
        raise AppError(400, "read must be true or false", field="read")
    return payload["read"]


def parse_folder(value):
    """One of FOLDERS; an unknown folder is a resource that does not exist."""
    if value not in FOLDERS:
        raise AppError(404, f"unknown folder; folders are: {', '.join(FOLDERS)}")
    return value


def parse_letter_id(value):
    """A letter id from the URL path: a positive 64-bit integer."""
    return validate.identifier(value, "id", maximum=MAX_ID)


def parse_page_request(query):
    """A PageRequest from the query string (limit, cursor, unread)."""
    query = query or {}
    return PageRequest(limit=validate.query_integer(query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
                       after=pagination.decode(query["cursor"]) if "cursor" in query else None,
                       unread_only=_boolean(query.get("unread"), "unread"))


def _boolean(value, field):
    if value is None or value == "false":
        return False
    if value == "true":
        return True
    raise AppError(400, f"{field} must be true or false", field=field)


def _text(value, field):
    # PostgreSQL text cannot hold NUL, and lone surrogates cannot be encoded as UTF-8: both are
    # the client's mistake, not a reason for a 500.
    if not isinstance(value, str):
        raise AppError(400, f"{field} must be a string", field=field)
    if "\x00" in value:
        raise AppError(400, f"{field} must not contain NUL characters", field=field)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise AppError(400, f"{field} is not valid Unicode text", field=field) from None
    return value
