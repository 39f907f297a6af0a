"""Operators sign in at /auth with a user name and password (argon2) and get a bearer token; only the
token's SHA-256 is stored. The admin pages carry the same token in an HttpOnly cookie. Sign-in attempts
are reserved before argon2 runs (common.throttle), per (operator name, client address) and per address."""
import secrets
from datetime import datetime, timedelta, timezone

from common import cookies, db, passwords, rows, throttle
from common.web import AppError

from .. import queries

COOKIE = "notifications_token"
MAX_TOKEN = 256
# Verifying against a real hash when the user is unknown keeps both answers equally slow.
_DUMMY_HASH = passwords.hash_password(secrets.token_urlsafe(16))
# A guesser gets 5 tries at one name from one address, then a lockout from 1 minute doubling to 15; one
# address gets 20 failures over any names. An operator signing in from elsewhere is subject to neither.
PER_OPERATOR_AND_ADDRESS = throttle.Policy(free=5, base=60, cap=900, forget_after=3600)
PER_ADDRESS = throttle.Policy(free=20, base=60, cap=900, forget_after=3600)
GATE = throttle.Gate(throttle.Statements(lock=(queries.SIGN_IN_LOCK,), save=queries.SIGN_IN_SAVE,
                                         forget=queries.SIGN_IN_FORGET, purge=queries.SIGN_IN_PURGE),
                     db.pg_transaction, lambda: datetime.now(timezone.utc), purge_after=PER_ADDRESS.forget_after)


def client_address(request):
    """The caller's address as API Gateway saw it (never a header the caller could forge)."""
    return str(((request.context or {}).get("identity") or {}).get("sourceIp") or "unknown")


def throttle_limits(username, address):
    return [throttle.Limit(throttle.key("operator+address", username, address), PER_OPERATOR_AND_ADDRESS,
                           throttle.FORGET),
            throttle.Limit(throttle.key("address", address), PER_ADDRESS, throttle.RELEASE)]


def sign_in(username, password, address, now, hours):
    """A new token for valid credentials; 401 otherwise (the same answer for a wrong name or password);
    429 + Retry-After (throttle.Refused) once this name from this address, or this address, failed too
    often. Each step is its own short transaction: the attempt is counted before argon2 runs, and no
    connection or lock is held while it does."""
    if not isinstance(username, str) or not isinstance(password, str) or not username or len(username) > 64 \
            or len(password) > 1024:
        raise unauthorized("wrong user name or password")
    reservation = GATE.reserve(throttle_limits(username, address), now)
    with db.pg_transaction() as cur:
        cur.execute(queries.OPERATOR_BY_NAME, (username,))
        found = cur.fetchone()
    if not passwords.verify_password(found[1] if found else _DUMMY_HASH, password) or found is None:
        raise unauthorized("wrong user name or password")
    reservation.succeeded(now)
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=hours)
    with db.pg_transaction() as cur:
        cur.execute(queries.DELETE_EXPIRED_TOKENS, (now,))
        cur.execute(queries.CREATE_TOKEN, (passwords.api_key_digest(token), found[0], expires))
    return token, expires


def create_operator(cur, username, password):
    cur.execute(queries.CREATE_OPERATOR, (username, passwords.hash_password(password)))
    return cur.fetchone()[0]


def bearer(headers):
    authorization = (headers.get("authorization") or "").strip()
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def cookie_token(request_or_headers):
    return cookies.read(request_or_headers, COOKIE) or None


def operator(token, now):
    """{"id", "username"} of a valid token, else None."""
    if not token or len(token) > MAX_TOKEN or not token.isascii():
        return None
    with db.pg_transaction() as cur:
        cur.execute(queries.OPERATOR_BY_TOKEN, (passwords.api_key_digest(token), now))
        return rows.one(cur)


def require(headers, now):
    """The operator of the request's bearer token; 401 without a valid one."""
    token = bearer(headers)
    if token is None:
        raise unauthorized("missing token: POST /auth with username and password, then send "
                           "`Authorization: Bearer <token>`")
    found = operator(token, now)
    if found is None:
        raise unauthorized("invalid or expired token: sign in again at /auth")
    return found


def sign_out(token):
    if token and len(token) <= MAX_TOKEN and token.isascii():
        with db.pg_transaction() as cur:
            cur.execute(queries.DELETE_TOKEN, (passwords.api_key_digest(token),))


def unauthorized(message):
    return AppError(401, message, headers={"WWW-Authenticate": 'Bearer realm="notifications"'})
