"""The ChatApp token pair in MySQL (one row): read it, lock it for a renewal, store what ChatApp gave.

Only the database side: chatapp.ChatApp decides when to renew and talks to ChatApp.
"""
import time

from common import db

from . import queries
from .clock import from_unix

MAX_MARGIN = 300            # renew at most 5 minutes before the access token ends...
MARGIN_SHARE = 0.1          # ...or in the last 10% of its life, if that is shorter (tests use short lives)


def read():
    """The token row (dict) or None."""
    with db.mysql_transaction() as cur:
        cur.execute(queries.GET_TOKENS)
        return cur.fetchone()


def lock(cur):
    """The token row, locked FOR UPDATE in cur's transaction (recreated if someone deleted it)."""
    cur.execute(queries.LOCK_TOKENS)
    row = cur.fetchone()
    if row is None:   # the migration inserts the row; recreate it if someone deleted it
        cur.execute(queries.ENSURE_TOKEN_ROW)
        cur.execute(queries.LOCK_TOKENS)
        row = cur.fetchone()
    return row


def store(cur, data, obtained, now):
    """Keep a token pair ChatApp gave (obtained anew, or refreshed) in the locked row."""
    params = (data["accessToken"], int(now), unix(data["accessTokenEndTime"]), data["refreshToken"],
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
