"""mail_import: IMAP mailboxes imported into PostgreSQL, with live progress over a WebSocket.

Handlers only adapt events; the logic lives in chalicelib (mime: the decoder, engine: the import,
web: pages, access and the WebSocket routes). HTTP: app.app; the SQS chunk worker: app.import_worker;
the WebSocket API ($connect, $disconnect, $default, subscribe): app.ws_handler.
"""
from urllib.parse import quote

from chalice import Chalice, Response
from common import batch, i18n, web
from common.log import get_logger

from chalicelib import settings
from chalicelib.engine import accounts, job_records, jobs, progress
from chalicelib.web import access, account_form, message_list, pages, websocket

app = Chalice(app_name="mail_import")
log = get_logger("mail_import")
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def _base():
    return web.base_path(app.current_request)


def _language():
    return i18n.request_language(app.current_request)


page_errors = web.html_errors(lambda error: pages.error(_base(), _language(), error))


# ---- pages -------------------------------------------------------------------------------------

@app.route("/", methods=["GET"])
@page_errors
def new_account_page():
    """The form that adds a mailbox."""
    return web.html_response(pages.new_account(_base(), _language()))


@app.route("/accounts", methods=["POST"], content_types=[FORM, JSON])
@page_errors
def create_account_from_form():
    """Create the account, remember its token in a cookie and open its messages page."""
    request = app.current_request
    values = access.form_values(request)
    try:
        account_id, token = accounts.create(account_form.parse_account(values))
    except web.AppError as exc:
        return web.html_response(pages.new_account(_base(), _language(), exc, values), status=exc.status)
    return web.redirect(access.page_url(_base(), account_id, token),
                        headers={"Set-Cookie": access.set_cookie(request, account_id, token)})


@app.route("/accounts/{account_id}", methods=["GET"])
@page_errors
def account_page(account_id):
    """The messages page; opening it starts an import unless one is running."""
    request = app.current_request
    account = access.account(request, account_id, access.PAGE_GONE)
    token = access.token(request, account["id"])
    job = jobs.start(account["id"])
    count, latest_id = message_list.stats(account["id"])
    link, headers = None, dict(web.NO_STORE)
    if (request.query_params or {}).get("token"):
        link = access.absolute_page_url(request, _base(), account["id"], token)
        headers["Set-Cookie"] = access.set_cookie(request, account["id"], token)
    page = pages.account(_base(), _language(), account, token, settings.ws_public_url(), progress.job_event(job),
                         message_list.newest(account["id"]), count, latest_id, link)
    return web.html_response(page, headers=headers)


@app.route("/accounts/{account_id}/attachments/{attachment_id}", methods=["GET"])
@page_errors
def attachment(account_id, attachment_id):
    """An attachment's bytes, for the account's owner only."""
    account = access.account(app.current_request, account_id, access.PAGE_GONE)
    number = int(attachment_id) if attachment_id.isdigit() and len(attachment_id) < 19 else None
    found = message_list.attachment(account["id"], number) if number is not None else None
    if found is None:
        raise web.not_found(access.PAGE_GONE)
    filename, _content_type, content = found
    # Served as a download, never rendered on our origin (an HTML attachment must not run here).
    return Response(body=content, status_code=200, headers={
        "Content-Type": "application/octet-stream", "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename or 'attachment')}"})


# ---- JSON API ----------------------------------------------------------------------------------

@app.route("/api/accounts", methods=["POST"], content_types=[JSON, FORM])
@web.json_errors
def create_account():
    """Create an account: {"id", "token" (shown once), "url"}."""
    account_id, token = accounts.create(account_form.parse_account(access.form_values(app.current_request)))
    return web.json_response({"id": account_id, "token": token, "url": access.page_url(_base(), account_id, token)},
                             status=201)


@app.route("/api/accounts/{account_id}", methods=["GET"])
@web.json_errors
def account_status(account_id):
    """The account's status, its latest import job and how many messages are stored."""
    account = access.account(app.current_request, account_id)
    job = job_records.latest_job(account["id"])
    count, latest_id = message_list.stats(account["id"])
    return web.json_response({
        "account": {k: account[k] for k in ("id", "provider", "host", "port", "use_ssl", "login", "folders",
                                            "status", "error")},
        "job": progress.job_event(job) if job else None, "count": count, "latest_id": latest_id})


@app.route("/api/accounts/{account_id}/messages", methods=["GET"])
@web.json_errors
def account_messages(account_id):
    """Imported messages: ?after=ID (oldest first) or ?before=ID (newest first), &limit=N (at most 1000)."""
    account = access.account(app.current_request, account_id)
    query = app.current_request.query_params or {}
    try:
        limit = int(query.get("limit", message_list.MAX_PAGE))
        if "after" in query:
            found = message_list.after(account["id"], int(query["after"]), limit)
        else:
            found = message_list.newest(account["id"], int(query["before"]) if "before" in query else None, limit)
    except ValueError:
        raise web.bad_request("after, before and limit must be numbers.") from None
    return web.json_response({"messages": found})


@app.route("/api/accounts/{account_id}/import", methods=["POST"])
@web.json_errors
def start_import(account_id):
    """Start an import unless one is running; returns the active job."""
    account = access.account(app.current_request, account_id)
    return web.json_response({"job": progress.job_event(jobs.start(account["id"]))}, status=202)


# ---- workers -----------------------------------------------------------------------------------

@app.on_sqs_message(queue="mail-import", batch_size=1)
def import_worker(event):
    """Run the import chunk each message names (a busy job's message comes back later: batch.Retry)."""
    context = event.context

    def chunk(record):
        remaining = context.get_remaining_time_in_millis() if context else 900_000
        jobs.handle(record["body"], batch.attempt_of(record), remaining)
    return batch.process(event, chunk)


@app.lambda_function(name="mail_import_ws")
def ws_handler(event, context):
    """Every route of the WebSocket API."""
    try:
        return websocket.dispatch(event)
    except Exception:
        log.exception("WebSocket route %s failed", (event.get("requestContext") or {}).get("routeKey"))
        return {"statusCode": 500, "body": "Internal error"}
