"""Opaque folder cursors: the (created_at, id) position of the last letter a page returned."""
import base64
import binascii
import re
from datetime import datetime, timedelta, timezone

from common.web import AppError

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)
_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")
_FORMAT = re.compile(r"1\.(-?[0-9]{1,18})\.([0-9]{1,19})")
_MAX_LENGTH = 64


def encode(created_at, letter_id):
    """A cursor string for the position just after (created_at, letter_id)."""
    micros = (created_at - _EPOCH) // _MICROSECOND
    raw = f"1.{micros}.{letter_id}".encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode(cursor):
    """(created_at, letter_id) from a cursor made by encode(); AppError(400) if it is not one."""
    invalid = AppError(400, "invalid cursor: pass back next_cursor from a previous page unchanged")
    if not isinstance(cursor, str) or len(cursor) > _MAX_LENGTH or not _ALPHABET.fullmatch(cursor):
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        raise invalid from None
    match = _FORMAT.fullmatch(raw)
    if match is None:
        raise invalid
    letter_id = int(match.group(2))
    if not 1 <= letter_id <= 2 ** 63 - 1:
        raise invalid
    try:
        created_at = _EPOCH + int(match.group(1)) * _MICROSECOND
    except OverflowError:
        raise invalid from None
    return created_at, letter_id
