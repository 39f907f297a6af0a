"""The web plumbing every Chalice app shares: one error model, JSON and HTML answers, the stage prefix.

Handlers raise AppError for anything the caller got wrong; `json_errors` / `html_errors` turn it
(and a lost database, and any bug) into the right answer, so no product writes its own copy.
JSON errors are English ({"error": message, ...}); HTML errors are translated by the page's catalog.
"""
import functools
import json
import logging

from chalice import Response

from . import db

log = logging.getLogger("common.web")

JSON_TYPE = "application/json"
HTML_TYPE = "text/html; charset=utf-8"
# Pages of ours never need to be framed, to leak their URL (it may carry a token) or to load code from
# elsewhere. Inline scripts stay allowed because the server-rendered pages keep their small scripts inline.
PAGE_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:; frame-ancestors 'none'; "
            "base-uri 'none'; form-action 'self'")
PAGE_HEADERS = {"Content-Security-Policy": PAGE_CSP, "Referrer-Policy": "no-referrer",
                "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"}
NO_STORE = {"Cache-Control": "no-store"}
# The messages of the errors below; pages translate them with the common catalog (common/locale).
NOT_FOUND = "Not found"
UNAVAILABLE = "Service temporarily unavailable, retry later"
DATABASE_UNAVAILABLE = "Database unavailable, retry later"
INTERNAL = "Internal error"
MESSAGES = (NOT_FOUND, UNAVAILABLE, DATABASE_UNAVAILABLE, INTERNAL)


class AppError(Exception):
    """A failure the caller can act on: an HTTP status, an English message (a catalog msgid for pages),
    values for the message's %(name)s placeholders, extra JSON fields and optional headers."""

    def __init__(self, status, message, *, params=None, headers=None, **fields):
        super().__init__(message % params if params else message)
        self.status = status
        self.message = message
        self.params = dict(params or {})
        self.headers = dict(headers or {})
        self.fields = fields

    @property
    def text(self):
        """The English message with its values filled in."""
        return str(self)


def not_found(message=NOT_FOUND):
    """404 for anything missing or not the caller's: another user's ids must reveal nothing."""
    return AppError(404, message)


def bad_request(message, field=None, **params):
    """400 naming the field that is wrong."""
    extra = {"field": field} if field else {}
    return AppError(400, message, params=params or None, **extra)


def unavailable(message=UNAVAILABLE, retry_after=1):
    """503 with Retry-After, for outages the caller can wait out."""
    return AppError(503, message, headers={"Retry-After": str(retry_after)})


# ---- answers -----------------------------------------------------------------------------------

def json_response(value, status=200, headers=None):
    """A JSON answer (UTF-8 text kept readable, dates and decimals as strings)."""
    return Response(body=json.dumps(value, ensure_ascii=False, default=str), status_code=status,
                    headers={"Content-Type": JSON_TYPE, **(headers or {})})


def json_error(status, message, headers=None, **fields):
    """The one JSON error shape: {"error": message, ...fields}."""
    return json_response({"error": message, **fields}, status=status, headers=headers)


def no_content(headers=None):
    """204 with no body."""
    return Response(body="", status_code=204, headers=dict(headers or {}))


def html_response(body, status=200, headers=None):
    """An HTML page with the platform's security headers (override any of them through headers)."""
    all_headers = {"Content-Type": HTML_TYPE, **PAGE_HEADERS, **(headers or {})}
    return Response(body=body, status_code=status, headers=all_headers)


def redirect(location, status=303, headers=None):
    """A redirect (303 after a POST: post-redirect-get)."""
    return Response(body="", status_code=status, headers={"Location": location, **(headers or {})})


def base_path(request):
    """The prefix links need: "/<stage>" when the request came in through the stage path, else ""."""
    context = request.context or {}
    stage, path = context.get("stage") or "", context.get("path") or ""
    prefix = f"/{stage}"
    return prefix if stage and (path == prefix or path.startswith(prefix + "/")) else ""


# ---- error mapping -----------------------------------------------------------------------------

def classify(exc):
    """(status, AppError) for any exception: ours as it is, a lost database as 503, the rest as 500."""
    if isinstance(exc, AppError):
        return exc
    if isinstance(exc, db.connection_errors()):
        log.exception("database unavailable")
        return unavailable(DATABASE_UNAVAILABLE)
    log.exception("unhandled error")
    return AppError(500, INTERNAL)


def error_answer(exc, render_page=None):
    """The answer to any exception (classify): a page rendered by render_page(error) when given, else the JSON
    error. Routes get it through map_errors; an access middleware that refuses a caller answers with it too."""
    error = classify(exc)
    if render_page is not None:
        return html_response(render_page(error), status=error.status, headers=error.headers)
    return json_error(error.status, error.text, headers=error.headers, **error.fields)


def json_errors(view):
    """Decorator for JSON routes: AppError -> its status, lost database -> 503, anything else -> 500."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every failure gets a JSON answer, never a traceback
            return error_answer(exc)
    return wrapper


def html_errors(render):
    """Decorator factory for page routes: render(error) -> HTML text of the error page (translated by
    the product's catalog); the status and headers come from the error."""
    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            try:
                return view(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - every failure gets a page, never a traceback
                return error_answer(exc, render)
        return wrapper
    return decorate


def map_errors(app, render_page=None, is_page=None):
    """Once per app, at the end of app.py (after every blueprint is registered): every route's failures are
    answered one way, JSON by default, a page (render_page(error) -> HTML) where is_page(path) is true. No
    route carries its own @json_errors / @html_errors. Returns app."""
    for path, methods in app.routes.items():
        for entry in methods.values():
            if getattr(entry.view_function, "errors_mapped", False):
                continue
            page = render_page is not None and is_page is not None and is_page(path)
            mapped = html_errors(render_page)(entry.view_function) if page else json_errors(entry.view_function)
            mapped.errors_mapped = True
            entry.view_function = mapped
    return app


def reshape_framework_error(response):
    """Chalice's own errors (405, 415, 400 bad JSON...), shaped {"Code", "Message"}, in our {"error"} shape."""
    if response.status_code < 400 or not isinstance(response.body, dict) or "Message" not in response.body:
        return response
    headers = {key: value for key, value in response.headers.items() if key.lower() != "content-type"}
    return json_error(response.status_code, str(response.body["Message"]), headers=headers)
