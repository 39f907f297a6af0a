"""Who may see an account: its access token, from the Authorization header, ?token= or the account's cookie.

Declared once: `guard` (the app's HTTP middleware) lets the PUBLIC routes through and, for every other route,
puts the account its {account_id} names on the request (`caller(request)`) or answers 404 itself (a missing and
a foreign account look the same). Routes never check tokens themselves.
"""
from urllib.parse import quote, urlencode

from common import cookies, validate, web
from common.i18n import N_

from ..engine import accounts

JSON = "application/json"
PAGE_GONE = N_("This page does not exist or the link has expired.")
NO_ACCOUNT = "No such account."
COOKIE_AGE = 31536000
LINK_AGE = 600
# The routes anyone may call: (API Gateway resource path, method). Every other route names an {account_id}.
PUBLIC = {("/", "GET"), ("/accounts", "POST"), ("/api/accounts", "POST"), ("/api/folders", "POST")}
CALLER = "mail_import_account"   # the request-context key the account is kept under


def guard(render_page, is_page):
    """The HTTP middleware: the route's account, or a 404 (a page where is_page(route), else JSON)."""
    def middleware(request, get_response):
        route = (request.context or {}).get("resourcePath") or ""
        if (route, request.method) not in PUBLIC:
            page = is_page(route)
            try:
                _authorize(request, PAGE_GONE if page else NO_ACCOUNT)
            except Exception as exc:  # noqa: BLE001 - a refusal or a lost database is an answer, never a traceback
                return web.error_answer(exc, render_page if page else None)
        return get_response(request)
    return middleware


def _authorize(request, missing):
    request.context[CALLER] = account(request, (request.uri_params or {}).get("account_id"), missing)


def caller(request):
    """The account the access layer found for this request."""
    return request.context[CALLER]


def cookie_name(account_id):
    return f"mail_import_{account_id}"


def token(request, account_id):
    """The access token the request carries for an account, or None."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    if request.query_params and request.query_params.get("token"):
        return request.query_params.get("token")
    return cookies.read(request, cookie_name(account_id))


def account(request, account_id, missing=NO_ACCOUNT):
    """The account row if the request carries its token; 404 otherwise (missing and foreign look the same)."""
    try:
        number = validate.identifier(account_id, "account_id")
    except web.AppError:
        raise web.not_found(missing) from None
    row = accounts.authorized(number, token(request, number))
    if row is None:
        raise web.not_found(missing)
    return row


MAX_LISTED = 50   # accounts one browser's start page lists


def cookie_tokens(request):
    """{account id: token} of every account cookie the browser sent (the start page's "my mailboxes")."""
    found = {}
    for name, value in cookies.jar(request).items():
        number = name[len("mail_import_"):] if name.startswith("mail_import_") else ""
        if number.isdigit() and len(number) < 19 and value and len(found) < MAX_LISTED:
            found[int(number)] = value
    return found


def set_cookie(request, account_id, value):
    """The Set-Cookie header that keeps the token for the account's page."""
    return cookies.set_cookie(request, cookie_name(account_id), value, max_age=COOKIE_AGE)


def forget_cookie(request, account_id):
    """The Set-Cookie header that removes the account's token from the browser (the account is deleted)."""
    return cookies.clear(request, cookie_name(account_id))


def link_cookie(request, account_id, show=True):
    """Set-Cookie for "show the page's link once": set when a link with its token is opened (the token then
    leaves the address bar by a redirect), cleared by the page that shows it."""
    name = f"{cookie_name(account_id)}_link"
    return cookies.set_cookie(request, name, "1", max_age=LINK_AGE) if show else cookies.clear(request, name)


def shows_link(request, account_id):
    """Whether this page view should show the link with the token (the first one after it was opened)."""
    return cookies.read(request, f"{cookie_name(account_id)}_link") == "1"


def without_token(request, path):
    """path with the request's query string minus the token, so the token leaves the address bar and history."""
    rest = [(k, v) for k, v in (request.query_params or {}).items() if k != "token"]
    return path + ("?" + urlencode(rest) if rest else "")


def page_url(base, account_id, value):
    """The account page's path with its token."""
    return f"{base}/accounts/{account_id}?token={quote(value)}"


def absolute_page_url(request, base, account_id, value):
    """The page's full address to show once (None without a Host header)."""
    host, scheme = request.headers.get("host", ""), request.headers.get("x-forwarded-proto", "http")
    return f"{scheme}://{host}{page_url(base, account_id, value)}" if host else None


def form_values(request, max_bytes=64 * 1024):
    """The fields of a form or JSON object body (last value wins); 413/400 naming the body when it is too
    large, not UTF-8, too deep or not an object."""
    raw = request.raw_body or b""
    if request.headers.get("content-type", "").startswith(JSON):
        return validate.json_object(raw, max_bytes)
    # clean=False: account_form checks (and names) each field it reads.
    return validate.form_fields(raw, max_bytes, request.headers.get("content-type"), max_fields=50, clean=False)
