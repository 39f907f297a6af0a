"""The JSON API (/api/accounts/...): create an account, its status, its messages and search, start an import,
the sync interval, a new password. Failures are answered as JSON (app.py maps errors once)."""
from chalice import Blueprint
from common import validate, web

from ..engine import accounts, deletion, job_records, jobs, progress
from ..web import access, account_form, attempts, message_list, search

bp = Blueprint(__name__)
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@bp.route("/api/accounts", methods=["POST"], content_types=[JSON, FORM])
def create_account():
    """Add a mailbox (its login checked first): {"id", "token" (shown once), "url", "existing"}; 201 for a new
    account, 200 for a mailbox already here (the same host and login: the existing account, with a new token)."""
    request = bp.current_request
    values = access.form_values(request, account_form.MAX_BODY_BYTES)
    account = account_form.parse_account(values)
    attempts.reserve(request)
    account_id, token, existing = accounts.add(account)
    return web.json_response({"id": account_id, "token": token, "existing": existing,
                              "url": access.page_url(web.base_path(request), account_id, token)},
                             status=200 if existing else 201)


@bp.route("/api/folders", methods=["POST"], content_types=[JSON, FORM])
def mailbox_folders():
    """A mailbox's folders for the form to offer, its login checked (and counted) as when it is added:
    {"folders": [{"name", "special" (\\Sent, \\Trash... or null), "checked" (imported unless unticked)}]}."""
    request = bp.current_request
    account = account_form.parse_account(access.form_values(request, account_form.MAX_BODY_BYTES))
    attempts.reserve(request)
    return web.json_response({"folders": accounts.folders(account)})


@bp.route("/api/accounts/{account_id}", methods=["GET"])
def account_status(account_id):
    """The account's status, its latest import job and how many messages are stored."""
    account = access.caller(bp.current_request)
    job = job_records.latest_job(account["id"])
    count, latest_id = message_list.stats(account["id"])
    return web.json_response({
        "account": {k: account[k] for k in ("id", "provider", "host", "port", "use_ssl", "login", "folders",
                                            "status", "error")},
        "job": progress.job_event(job) if job else None, "count": count, "latest_id": latest_id})


@bp.route("/api/accounts/{account_id}", methods=["DELETE"])
def delete_account(account_id):
    """Delete the account with everything it holds (queued: a running import stops first; its token stops working at
    once): {"deleting": {"login", "messages", "attachments"}}."""
    summary = deletion.request(access.caller(bp.current_request)["id"])
    if summary is None:
        raise web.not_found(access.NO_ACCOUNT)
    return web.json_response({"deleting": summary}, status=202)


@bp.route("/api/accounts/{account_id}/messages", methods=["GET"])
def account_messages(account_id):
    """Imported messages: ?after=ID (oldest first) or ?before=ID (newest first), &limit=N (at most 1000);
    or a search: ?q=words [&from=YYYY-MM-DD &to=YYYY-MM-DD &attachments=1 &limit &offset], best matches first."""
    account = access.caller(bp.current_request)
    query = bp.current_request.query_params or {}
    if "q" in query:
        return web.json_response({"messages": search.run(account["id"], search.parse(query))})
    limit = validate.query_integer(query, "limit", message_list.MAX_PAGE, 1, message_list.MAX_PAGE)
    if "after" in query:
        found = message_list.after(account["id"], validate.query_integer(query, "after", 0, 0, validate.MAX_ID), limit)
    else:
        found = message_list.newest(account["id"], validate.query_integer(query, "before", None, 1, validate.MAX_ID),
                                    limit)
    return web.json_response({"messages": found})


@bp.route("/api/accounts/{account_id}/import", methods=["POST"])
def start_import(account_id):
    """Start an import unless one is running; returns the active job."""
    account = access.caller(bp.current_request)
    return web.json_response({"job": progress.job_event(jobs.start(account["id"]))}, status=202)


@bp.route("/api/accounts/{account_id}/cancel", methods=["POST"])
def cancel_import(account_id):
    """Cancel the running import: the chunks in flight stop at their next batch (what they committed stays) and
    the job ends 'cancelled'; a later import resumes from there. {"job": the job, or null if none was running}."""
    job = jobs.cancel(access.caller(bp.current_request)["id"])
    return web.json_response({"job": progress.job_event(job) if job else None}, status=202)


@bp.route("/api/accounts/{account_id}/sync", methods=["PUT"], content_types=[JSON, FORM])
def set_sync(account_id):
    """The automatic sync interval: {"minutes": 1..10080} or {"minutes": null} (off)."""
    account = access.caller(bp.current_request)
    minutes = account_form.sync_minutes(access.form_values(bp.current_request))
    accounts.set_sync_interval(account["id"], minutes)
    return web.json_response({"sync_minutes": minutes})


@bp.route("/api/accounts/{account_id}/password", methods=["PUT"], content_types=[JSON, FORM])
def set_password(account_id):
    """A new password (after the old one stopped working): stored, and an import starts with it."""
    request = bp.current_request
    account = access.caller(request)
    password = account_form.new_password(access.form_values(request))
    attempts.reserve(request)
    accounts.set_password(account["id"], password)
    return web.json_response({"job": progress.job_event(jobs.start(account["id"]))}, status=202)
