"""Who may call which route, declared once: the table of public routes below and one check (app.py's
middleware) run before every route. Routes never authenticate: they read `caller(request)`.

- a public route: anyone;
- POST /logout: the session if there is one (signing out without one only clears the cookie);
- /api/...: an API token (Authorization: Bearer), else 401 in JSON;
- every other page: a signed-in browser session, else a redirect to the login page.
"""
from common import cookies, db, web

from .accounts import sessions, tokens
from .web import pages

PUBLIC = frozenset({
    ("GET", "/register"), ("POST", "/register"),
    ("GET", "/login"), ("POST", "/login"),
    ("GET", "/confirm"), ("POST", "/confirm"),
    ("GET", "/password/forgot"), ("POST", "/password/forgot"),
    ("GET", "/password/reset"), ("POST", "/password/reset"),
    ("GET", "/account/email/confirm"), ("POST", "/account/email/confirm"),
    ("GET", "/badges/{badge_name}"),
    ("GET", "/api/options"), ("GET", "/api/openapi.json"), ("GET", "/api/doc"), ("GET", "/api/doc/{asset}"),
})
SESSION_IF_ANY = frozenset({("POST", "/logout")})
API_PREFIX = "/api/"
_ATTRIBUTE = "code_check_caller"


def is_api(path):
    """Routes answering (and failing) in JSON: the partner API and the badges."""
    return path.startswith(API_PREFIX) or path.startswith("/badges/")


def rule(method, path):
    if (method, path) in PUBLIC:
        return "public"
    if (method, path) in SESSION_IF_ANY:
        return "session-if-any"
    return "token" if path.startswith(API_PREFIX) else "session"


def admit(request):
    """None when the request may go on (its caller set on it), else the answer that refuses it."""
    kind = rule(request.method, request.path)
    setattr(request, _ATTRIBUTE, None)
    if kind == "public":
        return None
    try:
        with db.pg_transaction() as cur:
            if kind == "token":
                found = tokens.authenticate(cur, request.headers)
            else:
                found = sessions.lookup(cur, cookies.read(request, sessions.COOKIE))
    except Exception as exc:  # noqa: BLE001 - a refused token, a lost database: answered like any route's error
        if is_api(request.path):
            return web.error_answer(exc)
        return pages.error_response(request, web.classify(exc))
    if found is None and kind == "session":
        return web.redirect(f"{web.base_path(request)}/login")
    setattr(request, _ATTRIBUTE, found)
    return None


def caller(request):
    """The signed-in user ({"id", "email", "csrf", "confirmed"}) or the API token's owner ({"id", "email"});
    None on public routes."""
    return getattr(request, _ATTRIBUTE, None)
