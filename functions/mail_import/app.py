"""mail_import: IMAP mailboxes imported into PostgreSQL, with live progress over a WebSocket.

Handlers only adapt events; the logic lives in chalicelib. HTTP: app.app; the SQS chunk worker:
app.import_worker; the WebSocket API ($connect, $disconnect, $default, subscribe): app.ws_handler.
"""
import json
import os
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs, quote

from chalice import Chalice, Response
from common import http
from common.log import get_logger

from chalicelib import accounts, jobs, messages, progress, providers, state, views, ws

app = Chalice(app_name="mail_import")
log = get_logger("mail_import")
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
UNAVAILABLE = "The service is temporarily unavailable. Please try again in a minute."


# ---- helpers -----------------------------------------------------------------------------------

def _base():
    """The path prefix links need: "/<stage>" when the request came through the stage path."""
    context = app.current_request.context
    stage, path = context.get("stage") or "", context.get("path") or ""
    return f"/{stage}" if stage and (path == f"/{stage}" or path.startswith(f"/{stage}/")) else ""


def _cookie_name(account_id):
    return f"mail_import_{account_id}"


def _token(account_id):
    """The access token from the Authorization header, ?token= or the account's cookie."""
    request = app.current_request
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    if request.query_params and request.query_params.get("token"):
        return request.query_params.get("token")
    try:
        cookie = SimpleCookie(request.headers.get("cookie", "")).get(_cookie_name(account_id))
    except CookieError:
        return None
    return cookie.value if cookie else None


def _account(account_id):
    """The account row if the request carries its token, else None (missing and foreign look the same)."""
    try:
        number = int(account_id)
    except ValueError:
        return None
    return accounts.authorized(number, _token(number))


def _set_cookie(account_id, token):
    secure = "; Secure" if app.current_request.headers.get("x-forwarded-proto") == "https" else ""
    return f"{_cookie_name(account_id)}={token}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax{secure}"


def _json(body, status=200, headers=None):
    return Response(body=json.dumps(body, ensure_ascii=False, default=str), status_code=status,
                    headers=dict({"Content-Type": JSON}, **(headers or {})))


def _form_values():
    request = app.current_request
    if request.headers.get("content-type", "").startswith(JSON):
        return request.json_body if isinstance(request.json_body, dict) else {}
    body = request.raw_body.decode("utf-8", "replace")
    return {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}


def _not_found_page():
    return http.html(views.not_found(_base(), "Такой страницы нет или ссылка устарела."), status=404)


@app.middleware("http")
def _no_crash_pages(event, get_response):
    """Unexpected failures (database down, a bug) become a short 503, never a stack trace or a bare 500."""
    try:
        response = get_response(event)
    except Exception:
        log.exception("request failed")
        response = None
    if response is None or response.status_code >= 500:
        if event.path.startswith("/api/"):
            return http.json_error(503, UNAVAILABLE)
        return http.html(views.not_found(_base(), UNAVAILABLE), status=503)
    return response


# ---- pages -------------------------------------------------------------------------------------

@app.route("/", methods=["GET"])
def new_account_page():
    """The form that adds a mailbox."""
    return http.html(views.new_account(_base()))


@app.route("/accounts", methods=["POST"], content_types=[FORM, JSON])
def create_account_from_form():
    """Create the account, remember its token in a cookie and open its messages page."""
    values = _form_values()
    try:
        account_id, token = accounts.create(providers.parse_account(values))
    except providers.InvalidInput as exc:
        return http.html(views.new_account(_base(), str(exc), values), status=400)
    response = http.redirect(f"{_base()}/accounts/{account_id}?token={quote(token)}")
    response.headers["Set-Cookie"] = _set_cookie(account_id, token)
    return response


@app.route("/accounts/{account_id}", methods=["GET"])
def account_page(account_id):
    """The messages page; opening it starts an import unless one is running."""
    account = _account(account_id)
    if account is None:
        return _not_found_page()
    token = _token(account["id"])
    job = jobs.start(account["id"])
    count, latest_id = messages.stats(account["id"])
    query = app.current_request.query_params or {}
    link = None
    headers = {}
    if query.get("token"):
        headers_in = app.current_request.headers
        host, scheme = headers_in.get("host", ""), headers_in.get("x-forwarded-proto", "http")
        link = f"{scheme}://{host}{_base()}/accounts/{account['id']}?token={quote(token)}" if host else None
        headers["Set-Cookie"] = _set_cookie(account["id"], token)
    page = views.account(_base(), account, token, os.environ.get("WS_PUBLIC_URL", ""), progress.job_event(job),
                         messages.newest(account["id"]), count, latest_id, link)
    return http.html(page, headers=headers)


@app.route("/accounts/{account_id}/attachments/{attachment_id}", methods=["GET"])
def attachment(account_id, attachment_id):
    """An attachment's bytes, for the account's owner only."""
    account = _account(account_id)
    try:
        number = int(attachment_id)
    except ValueError:
        number = None
    found = messages.attachment(account["id"], number) if account and number is not None else None
    if found is None:
        return _not_found_page()
    filename, _content_type, content = found
    # Served as a download, never rendered on our origin (an HTML attachment must not run here).
    return Response(body=content, status_code=200, headers={
        "Content-Type": "application/octet-stream", "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename or 'attachment')}"})


# ---- JSON API ----------------------------------------------------------------------------------

@app.route("/api/accounts", methods=["POST"], content_types=[JSON, FORM])
def create_account():
    """Create an account: {"id", "token" (shown once), "url"}."""
    try:
        account_id, token = accounts.create(providers.parse_account(_form_values()))
    except providers.InvalidInput as exc:
        return http.json_error(400, str(exc))
    return _json({"id": account_id, "token": token, "url": f"{_base()}/accounts/{account_id}?token={quote(token)}"},
                 status=201)


@app.route("/api/accounts/{account_id}", methods=["GET"])
def account_status(account_id):
    """The account's status, its latest import job and how many messages are stored."""
    account = _account(account_id)
    if account is None:
        return http.json_error(404, "No such account.")
    job = state.latest_job(account["id"])
    count, latest_id = messages.stats(account["id"])
    return _json({"account": {k: account[k] for k in ("id", "provider", "host", "port", "use_ssl", "login",
                                                      "folders", "status", "error")},
                  "job": progress.job_event(job) if job else None, "count": count, "latest_id": latest_id})


@app.route("/api/accounts/{account_id}/messages", methods=["GET"])
def account_messages(account_id):
    """Imported messages: ?after=ID (oldest first) or ?before=ID (newest first), &limit=N (at most 1000)."""
    account = _account(account_id)
    if account is None:
        return http.json_error(404, "No such account.")
    query = app.current_request.query_params or {}
    try:
        limit = int(query.get("limit", messages.MAX_PAGE))
        if "after" in query:
            found = messages.after(account["id"], int(query["after"]), limit)
        else:
            found = messages.newest(account["id"], int(query["before"]) if "before" in query else None, limit)
    except ValueError:
        return http.json_error(400, "after, before and limit must be numbers.")
    return _json({"messages": found})


@app.route("/api/accounts/{account_id}/import", methods=["POST"])
def start_import(account_id):
    """Start an import unless one is running; returns the active job."""
    account = _account(account_id)
    if account is None:
        return http.json_error(404, "No such account.")
    return _json({"job": progress.job_event(jobs.start(account["id"]))}, status=202)


# ---- workers -----------------------------------------------------------------------------------

@app.on_sqs_message(queue="mail-import", batch_size=1)
def import_worker(event):
    """Run the import chunk each message names; a busy job's message is handed back for later."""
    failures = []
    for record in event:
        raw = record.to_dict()
        attempt = int(raw.get("attributes", {}).get("ApproximateReceiveCount", "1"))
        context = event.context
        remaining = context.get_remaining_time_in_millis() if context else 900_000
        if not jobs.handle(record.body, attempt, remaining):
            failures.append({"itemIdentifier": raw["messageId"]})
    return {"batchItemFailures": failures}


@app.lambda_function(name="mail_import_ws")
def ws_handler(event, context):
    """Every route of the WebSocket API."""
    try:
        return ws.dispatch(event)
    except Exception:
        log.exception("WebSocket route %s failed", (event.get("requestContext") or {}).get("routeKey"))
        return {"statusCode": 500, "body": "Internal error"}
