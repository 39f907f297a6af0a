"""mail_import: IMAP mailboxes imported into PostgreSQL, with live progress over a WebSocket.

Handlers only adapt events; the logic lives in chalicelib (mime: the decoder, engine: the import,
web: pages, access and the WebSocket routes). HTTP: app.app; the SQS chunk worker: app.import_worker;
the search indexer: app.index_worker; the sync schedule: app.sync_schedule;
the WebSocket API ($connect, $disconnect, $default, subscribe): app.ws_handler.
"""
from urllib.parse import quote

from chalice import Chalice, Response
from common import batch, i18n, validate, web
from common.log import get_logger

from chalicelib import settings
from chalicelib.engine import accounts, indexer, job_records, jobs, progress, schedule
from chalicelib.web import access, account_form, attempts, message_list, message_view, pages, search, websocket

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
    values = {}
    try:
        values = access.form_values(request, account_form.MAX_BODY_BYTES)
        account = account_form.parse_account(values)
        attempts.reserve(request)
        account_id, token = accounts.create(account)
    except web.AppError as exc:
        return web.html_response(pages.new_account(_base(), _language(), exc, values), status=exc.status,
                                 headers=exc.headers)
    # The token travels in the cookie, not in the URL: it never lands in the address bar or the history.
    return web.redirect(f"{_base()}/accounts/{account_id}", headers=dict(web.NO_STORE, **{"Set-Cookie": [
        access.set_cookie(request, account_id, token), access.link_cookie(request, account_id)]}))


@app.route("/accounts/{account_id}", methods=["GET"])
@page_errors
def account_page(account_id):
    """The messages page; opening it starts an import unless one is running."""
    request = app.current_request
    account = access.account(request, account_id, access.PAGE_GONE)
    token = access.token(request, account["id"])
    if (request.query_params or {}).get("token"):
        # A link with ?token=: keep the token in the cookie and load the page again without it in the URL.
        return web.redirect(access.without_token(request, f"{_base()}/accounts/{account['id']}"),
                            headers=dict(web.NO_STORE, **{"Set-Cookie": [
                                access.set_cookie(request, account["id"], token),
                                access.link_cookie(request, account["id"])]}))
    job = jobs.start(account["id"])
    count, latest_id = message_list.stats(account["id"])
    link, headers = None, dict(web.NO_STORE)
    if access.shows_link(request, account["id"]):
        link = access.absolute_page_url(request, _base(), account["id"], token)
        headers["Set-Cookie"] = access.link_cookie(request, account["id"], show=False)
    page = pages.account(_base(), _language(), account, token, settings.ws_public_url(), progress.job_event(job),
                         message_list.newest(account["id"], None, pages.LIVE_ROWS), count, latest_id, link)
    return web.html_response(page, headers=headers)


@app.route("/accounts/{account_id}/attachments/{attachment_id}", methods=["GET"])
@page_errors
def attachment(account_id, attachment_id):
    """An attachment's bytes, for the account's owner only."""
    account = access.account(app.current_request, account_id, access.PAGE_GONE)
    number = _id_or_none(attachment_id)
    found = message_list.attachment(account["id"], number) if number is not None else None
    if found is None:
        raise web.not_found(access.PAGE_GONE)
    filename, _content_type, content = found
    # Served as a download, never rendered on our origin (an HTML attachment must not run here).
    return Response(body=content, status_code=200, headers={
        "Content-Type": "application/octet-stream", "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename or 'attachment')}"})


def _id_or_none(value):
    """A page's id from its URL, or None: anything that is not one is simply absent (404)."""
    try:
        return validate.identifier(value)
    except web.AppError:
        return None


def _message(account, message_id):
    number = _id_or_none(message_id)
    found = message_view.get(account["id"], number) if number is not None else None
    if found is None:
        raise web.not_found(access.PAGE_GONE)
    return found


def _images_allowed():
    return (app.current_request.query_params or {}).get("images") == "1"


@app.route("/accounts/{account_id}/messages/{message_id}", methods=["GET"])
@page_errors
def message_page(account_id, message_id):
    """One message; its HTML part in a sandboxed frame, remote images only once the reader allows them."""
    account = access.account(app.current_request, account_id, access.PAGE_GONE)
    found = _message(account, message_id)
    blocked = message_view.html_view.sanitize(found["html"]).blocked_images if found["html"] else 0
    page = pages.message(_base(), _language(), account, found, blocked, _images_allowed())
    headers = dict(web.NO_STORE)
    if (app.current_request.query_params or {}).get("token"):
        # The frame's request carries no token of its own: the cookie lets it in.
        headers["Set-Cookie"] = access.set_cookie(app.current_request, account["id"],
                                                  access.token(app.current_request, account["id"]))
    return web.html_response(page, headers=headers)


@app.route("/accounts/{account_id}/messages/{message_id}/html", methods=["GET"])
@page_errors
def message_html(account_id, message_id):
    """The frame document: the sanitised HTML part under a CSP that runs nothing and loads only what is allowed."""
    account = access.account(app.current_request, account_id, access.PAGE_GONE)
    found = _message(account, message_id)
    if not found["html"]:
        raise web.not_found(access.PAGE_GONE)
    document, csp, _blocked = message_view.frame(found, _language(), _images_allowed())
    return Response(body=document, status_code=200, headers={
        "Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"})


# ---- JSON API ----------------------------------------------------------------------------------

@app.route("/api/accounts", methods=["POST"], content_types=[JSON, FORM])
@web.json_errors
def create_account():
    """Create an account: {"id", "token" (shown once), "url"}."""
    values = access.form_values(app.current_request, account_form.MAX_BODY_BYTES)
    account = account_form.parse_account(values)
    attempts.reserve(app.current_request)
    account_id, token = accounts.create(account)
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
    """Imported messages: ?after=ID (oldest first) or ?before=ID (newest first), &limit=N (at most 1000);
    or a search: ?q=words [&from=YYYY-MM-DD &to=YYYY-MM-DD &attachments=1 &limit &offset], best matches first."""
    account = access.account(app.current_request, account_id)
    query = app.current_request.query_params or {}
    if "q" in query:
        return web.json_response({"messages": search.run(account["id"], search.parse(query))})
    limit = validate.query_integer(query, "limit", message_list.MAX_PAGE, 1, message_list.MAX_PAGE)
    if "after" in query:
        found = message_list.after(account["id"], validate.query_integer(query, "after", 0, 0, validate.MAX_ID), limit)
    else:
        found = message_list.newest(account["id"], validate.query_integer(query, "before", None, 1, validate.MAX_ID),
                                    limit)
    return web.json_response({"messages": found})


@app.route("/api/accounts/{account_id}/import", methods=["POST"])
@web.json_errors
def start_import(account_id):
    """Start an import unless one is running; returns the active job."""
    account = access.account(app.current_request, account_id)
    return web.json_response({"job": progress.job_event(jobs.start(account["id"]))}, status=202)


@app.route("/api/accounts/{account_id}/sync", methods=["PUT"], content_types=[JSON, FORM])
@web.json_errors
def set_sync(account_id):
    """The automatic sync interval: {"minutes": 1..10080} or {"minutes": null} (off)."""
    account = access.account(app.current_request, account_id)
    minutes = account_form.sync_minutes(access.form_values(app.current_request))
    accounts.set_sync_interval(account["id"], minutes)
    return web.json_response({"sync_minutes": minutes})


@app.route("/api/accounts/{account_id}/password", methods=["PUT"], content_types=[JSON, FORM])
@web.json_errors
def set_password(account_id):
    """A new password (after the old one stopped working): stored, and an import starts with it."""
    account = access.account(app.current_request, account_id)
    password = account_form.new_password(access.form_values(app.current_request))
    attempts.reserve(app.current_request)
    accounts.set_password(account["id"], password)
    return web.json_response({"job": progress.job_event(jobs.start(account["id"]))}, status=202)


# ---- workers -----------------------------------------------------------------------------------

@app.on_sqs_message(queue="mail-import", batch_size=1)
def import_worker(event):
    """Run the import chunk each message names (a busy job's message comes back later: batch.Retry). The heartbeat
    keeps the message hidden only while this process lives: a killed chunk is back within a minute."""
    context = event.context

    def chunk(record):
        remaining = context.get_remaining_time_in_millis() if context else 900_000
        jobs.handle(record["body"], batch.attempt_of(record), remaining)
    return batch.process(event, chunk, heartbeat=True)


@app.on_sqs_message(queue="mail-import-index", batch_size=10)
def index_worker(event):
    """Index imported messages for search (a bounded share per request; the rest is queued again)."""
    return batch.process(event, lambda record: indexer.handle(record["body"]))


@app.schedule("rate(1 minute)")
def sync_schedule(event):
    """Every minute: queue the syncs that are due, spread over the minute; re-queue stranded jobs."""
    return schedule.run()


@app.lambda_function(name="mail_import_ws")
def ws_handler(event, context):
    """Every route of the WebSocket API."""
    try:
        return websocket.dispatch(event)
    except Exception:
        log.exception("WebSocket route %s failed", (event.get("requestContext") or {}).get("routeKey"))
        return {"statusCode": 500, "body": "Internal error"}
