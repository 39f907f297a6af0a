"""Who may see an account: its access token, from the Authorization header, ?token= or the account's cookie."""
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs, quote

from common import web
from common.i18n import N_

from ..engine import accounts

JSON = "application/json"
PAGE_GONE = N_("This page does not exist or the link has expired.")
NO_ACCOUNT = "No such account."
COOKIE_AGE = 31536000


def cookie_name(account_id):
    return f"mail_import_{account_id}"


def token(request, account_id):
    """The access token the request carries for an account, or None."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    if request.query_params and request.query_params.get("token"):
        return request.query_params.get("token")
    try:
        cookie = SimpleCookie(request.headers.get("cookie", "")).get(cookie_name(account_id))
    except CookieError:
        return None
    return cookie.value if cookie else None


def account(request, account_id, missing=NO_ACCOUNT):
    """The account row if the request carries its token; 404 otherwise (missing and foreign look the same)."""
    try:
        number = int(account_id)
    except ValueError:
        raise web.not_found(missing) from None
    row = accounts.authorized(number, token(request, number))
    if row is None:
        raise web.not_found(missing)
    return row


def set_cookie(request, account_id, value):
    """The Set-Cookie header that keeps the token for the account's page (Secure behind HTTPS)."""
    secure = "; Secure" if request.headers.get("x-forwarded-proto") == "https" else ""
    return f"{cookie_name(account_id)}={value}; Path=/; Max-Age={COOKIE_AGE}; HttpOnly; SameSite=Lax{secure}"


def page_url(base, account_id, value):
    """The account page's path with its token."""
    return f"{base}/accounts/{account_id}?token={quote(value)}"


def absolute_page_url(request, base, account_id, value):
    """The page's full address to show once (None without a Host header)."""
    host, scheme = request.headers.get("host", ""), request.headers.get("x-forwarded-proto", "http")
    return f"{scheme}://{host}{page_url(base, account_id, value)}" if host else None


def form_values(request):
    """The fields of a form or JSON object body (last value wins)."""
    if request.headers.get("content-type", "").startswith(JSON):
        return request.json_body if isinstance(request.json_body, dict) else {}
    body = request.raw_body.decode("utf-8", "replace")
    return {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}
