"""Browser sessions and CSRF tokens.

The cookie holds a random token; the database keeps only its digest. Each session has its own CSRF
token for the forms; the login and register forms (no session yet) use a double-submit cookie.
"""
import secrets
from http.cookies import SimpleCookie

from common import passwords

from .. import queries

COOKIE = "cc_session"
PRE_COOKIE = "cc_form"


def create(cur, user_id, days):
    """(cookie token, csrf token) of a new session."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    cur.execute(queries.DELETE_EXPIRED_SESSIONS, (user_id,))
    cur.execute(queries.INSERT_SESSION, (passwords.api_key_digest(token), user_id, csrf, days))
    return token, csrf


def lookup(cur, token):
    """{"id", "email", "csrf", "confirmed"} of a live session, or None."""
    if not token:
        return None
    cur.execute(queries.SESSION_USER, (passwords.api_key_digest(token),))
    row = cur.fetchone()
    return None if row is None else {"id": row[0], "email": row[1], "csrf": row[2], "confirmed": row[3] is not None}


def end(cur, token):
    if token:
        cur.execute(queries.DELETE_SESSION, (passwords.api_key_digest(token),))


def cookies(headers):
    """The request's cookies as a dict."""
    jar = SimpleCookie()
    try:
        jar.load((headers or {}).get("cookie") or "")
    except Exception:  # noqa: BLE001 - a malformed Cookie header is treated as no cookies
        return {}
    return {key: morsel.value for key, morsel in jar.items()}


def is_https(headers):
    """API Gateway (and proxies) say how the browser connected in X-Forwarded-Proto."""
    return ((headers or {}).get("x-forwarded-proto") or "").split(",")[0].strip().lower() == "https"


def cookie_header(name, value, headers, path="/", max_age=None):
    """A Set-Cookie value: HttpOnly, SameSite=Lax, Secure when the request came over https."""
    parts = [f"{name}={value}", f"Path={path}", "HttpOnly", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if is_https(headers):
        parts.append("Secure")
    return "; ".join(parts)


def csrf_ok(expected, given):
    return bool(expected) and bool(given) and passwords.same(expected, given)
