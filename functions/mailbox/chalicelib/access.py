"""Who may call which route, declared once: a table of the public routes and one middleware that puts the
calling mailbox (from its API key in `Authorization: Bearer` or `X-API-Key`) on every other request.

Routes never authenticate: they read `caller(request)`. A route that is not in PUBLIC needs a key.
"""
from dataclasses import dataclass

from common import db, rows, web
from common.passwords import api_key_digest
from common.web import AppError

from . import queries

MAX_KEY_CHARS = 256
MISSING_KEY = "missing API key: send `Authorization: Bearer <key>` or `X-API-Key: <key>`"
# (method, route path) anyone may call: the landing page and the API documentation.
PUBLIC = frozenset({
    ("GET", "/"),
    ("GET", "/api/openapi.json"),
    ("GET", "/api/doc"),
    ("GET", "/api/doc/{asset}"),
})
# Where the middleware leaves the caller: the request context, which API Gateway builds (a client cannot set it).
CALLER = "mailbox"


@dataclass(frozen=True)
class Mailbox:
    id: int
    address: str


def install(app):
    """Register the access middleware on app (once, in app.py)."""
    @app.middleware("http")
    def access(request, get_response):
        return guard(app.routes, request, get_response)
    return app


def guard(routes, request, get_response):
    """Authenticate the caller of every route not in PUBLIC before it runs (401 without a valid key, 503 without
    the database, as JSON). A method the path does not have goes on to Chalice's 405, as it did before any key."""
    request.context.pop(CALLER, None)
    if request.method in routes.get(request.path, {}) and (request.method, request.path) not in PUBLIC:
        try:
            with db.pg_transaction() as cur:
                request.context[CALLER] = authenticate(cur, request.headers)
        except Exception as exc:  # noqa: BLE001 - a refusal or an outage is an answer, never a traceback
            return web.error_answer(exc)
    return get_response(request)


def caller(request):
    """The Mailbox the middleware authenticated for this request."""
    found = request.context.get(CALLER)
    if not isinstance(found, Mailbox):      # a route missing from the middleware's care: refuse, never guess
        raise _unauthorized(MISSING_KEY)
    return found


def api_key(headers):
    """The API key from the request headers, or None."""
    authorization = (headers.get("authorization") or "").strip()
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    key = (headers.get("x-api-key") or "").strip()
    return key or None


def authenticate(cur, headers):
    """The calling Mailbox; AppError(401) if the key is missing or unknown."""
    key = api_key(headers)
    if key is None:
        raise _unauthorized(MISSING_KEY)
    if len(key) <= MAX_KEY_CHARS and key.isascii():
        cur.execute(queries.MAILBOX_BY_KEY_DIGEST, (api_key_digest(key),))
        row = rows.one(cur)
        if row is not None:
            return Mailbox(**row)
    raise _unauthorized("invalid API key")


def _unauthorized(message):
    return AppError(401, message, headers={"WWW-Authenticate": 'Bearer realm="mailbox"'})
