"""Browser sessions and CSRF tokens.

The cookie holds a random token; the database keeps only its digest. Each session has its own CSRF
token for the forms; the login and register forms (no session yet) use a double-submit cookie.
Cookies are built and read by common.cookies.
"""
import secrets

from common import db, passwords, rows

from .. import queries

COOKIE = "cc_session"
PRE_COOKIE = "cc_form"


def create(cur, user_id, days):
    """(cookie token, csrf token) of a new session."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    cur.execute(queries.DELETE_EXPIRED_SESSIONS, (user_id,))
    cur.execute(queries.INSERT_SESSION, (passwords.api_key_digest(token), user_id, csrf, days))
    return token, csrf


def digest(token):
    """What the database keeps of a cookie token ('' for none)."""
    return passwords.api_key_digest(token) if token else ""


def start(user_id, days):
    """The cookie token of a new session (its own transaction)."""
    with db.pg_transaction() as cur:
        return create(cur, user_id, days)[0]


def lookup(cur, token):
    """{"id", "email", "csrf", "confirmed"} of a live session, or None."""
    if not token:
        return None
    cur.execute(queries.SESSION_USER, (passwords.api_key_digest(token),))
    return rows.one(cur)


def end(cur, token):
    if token:
        cur.execute(queries.DELETE_SESSION, (passwords.api_key_digest(token),))


def sign_out(token):
    with db.pg_transaction() as cur:
        end(cur, token)


def csrf_ok(expected, given):
    return bool(expected) and bool(given) and passwords.same(expected, given)
