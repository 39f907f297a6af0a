"""The ChatApp token pair in MySQL (one row): read it, lock it for a renewal, store what ChatApp gave.

Only the database side: chatapp.ChatApp decides when to renew and talks to ChatApp. Both tokens are stored
encrypted with the platform's SECRET_KEY (common.secretbox): a database dump or backup does not hand out a
working ChatApp login. Rows written before encryption hold plaintext; they are read as they are and
encrypted in place by the next lock (every renewal) or by `encrypt_plaintext()` (the maintenance schedule).
"""
import time

from common import db, secretbox
from common.log import get_logger

from . import queries
from .clock import from_unix

log = get_logger(__name__)
SECRET_COLUMNS = ("access_token", "refresh_token")
# Every Fernet token starts with its version byte 0x80, base64-encoded as "gAAAAA".
_ENCRYPTED_PREFIX = "gAAAAA"
MAX_MARGIN = 300            # renew at most 5 minutes before the access token ends...
MARGIN_SHARE = 0.1          # ...or in the last 10% of its life, if that is shorter (tests use short lives)


def read():
    """The token row (dict, tokens decrypted) or None."""
    with db.mysql_transaction() as cur:
        cur.execute(queries.GET_TOKENS)
        return _revealed(cur.fetchone())


def lock(cur):
    """The token row (tokens decrypted), locked FOR UPDATE in cur's transaction (recreated if someone deleted
    it); plaintext tokens left from before encryption are encrypted on the way."""
    cur.execute(queries.LOCK_TOKENS)
    row = cur.fetchone()
    if row is None:   # the migration inserts the row; recreate it if someone deleted it
        cur.execute(queries.ENSURE_TOKEN_ROW)
        cur.execute(queries.LOCK_TOKENS)
        row = cur.fetchone()
    if any(row[column] and not encrypted(row[column]) for column in SECRET_COLUMNS):
        cur.execute(queries.REWRITE_TOKENS, (seal(row["access_token"]), seal(row["refresh_token"])))
        log.info("ChatApp tokens stored before encryption are now encrypted")
    return _revealed(row)


def encrypt_plaintext():
    """Encrypt tokens stored in plaintext by an older version (True if there were any)."""
    with db.mysql_transaction() as cur:
        cur.execute(queries.LOCK_TOKENS)
        row = cur.fetchone()
        if row is None or not any(row[c] and not encrypted(row[c]) for c in SECRET_COLUMNS):
            return False
        lock(cur)
    return True


def encrypted(value):
    """Whether a stored token is one of ours (encrypted) rather than a plaintext one from before."""
    return value.startswith(_ENCRYPTED_PREFIX)


def seal(value):
    """The stored form of a token (None stays None)."""
    return secretbox.encrypt(value) if value else value


def reveal(value):
    """The token from its stored form; a plaintext one from before encryption as it is; None if it was
    encrypted with another key (a rotated SECRET_KEY: new tokens are obtained instead)."""
    if not value or not encrypted(value):
        return value
    try:
        return secretbox.decrypt(value)
    except ValueError:
        log.warning("stored ChatApp token cannot be decrypted with the current key; new tokens will be obtained")
        return None


def _revealed(row):
    if row is not None:
        for column in SECRET_COLUMNS:
            row[column] = reveal(row[column])
    return row


def store(cur, data, obtained, now):
    """Keep a token pair ChatApp gave (obtained anew, or refreshed) in the locked row, encrypted."""
    params = (seal(data["accessToken"]), int(now), unix(data["accessTokenEndTime"]), seal(data["refreshToken"]),
              unix(data["refreshTokenEndTime"]), from_unix(now))
    cur.execute(queries.STORE_OBTAINED if obtained else queries.STORE_REFRESHED, params)


def store_callback(digest, now):
    """Remember which callback URL (its digest) is registered."""
    with db.mysql_transaction() as cur:
        cur.execute(queries.STORE_CALLBACK, (digest, from_unix(now)))


def valid_for(row, now):
    """Seconds the stored access token stays valid."""
    return (row["access_expires_at"] or 0) - now


def margin(row):
    """How long before its end an access token is renewed."""
    issued, ends = row.get("access_issued_at"), row.get("access_expires_at")
    if not issued or not ends:
        return MAX_MARGIN
    return min(MAX_MARGIN, (ends - issued) * MARGIN_SHARE)


def unix(value):
    """Unix seconds from ChatApp's end times (seconds per its docs; milliseconds tolerated)."""
    value = int(float(value))
    return value // 1000 if value > 10 ** 11 else value


def status(now=None):
    """What the pages show: when the tokens end and whether the callback is registered (never the tokens)."""
    now = time.time() if now is None else now
    row = read() or {}
    return {
        "has_tokens": bool(row.get("access_token")),
        "access_ends": from_unix(row["access_expires_at"]) if row.get("access_expires_at") else None,
        "refresh_ends": from_unix(row["refresh_expires_at"]) if row.get("refresh_expires_at") else None,
        "access_valid": bool(row.get("access_token")) and (row.get("access_expires_at") or 0) > now,
        "callback_registered_at": row.get("callback_registered_at"),
    }
