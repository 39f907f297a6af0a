"""The pages: the form that adds a mailbox, an account's messages page, one message, its HTML frame and
attachments. Failures are answered as pages (app.py maps errors once)."""
from urllib.parse import quote

from chalice import Blueprint, Response
from common import i18n, validate, web

from .. import settings
from ..engine import accounts, deletion, jobs, progress
from ..web import access, account_form, attempts, message_list, message_view, pages

bp = Blueprint(__name__)
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def base():
    return web.base_path(bp.current_request)


def language():
    return i18n.request_language(bp.current_request)


def error_page(error):
    """The page for any failure of a page route (app.py: web.map_errors)."""
    return pages.error(base(), language(), error)


@bp.route("/", methods=["GET"])
def new_account_page():
    """The form that adds a mailbox, under the mailboxes this browser added (from its cookies)."""
    mine = accounts.mine(access.cookie_tokens(bp.current_request))
    return web.html_response(pages.new_account(base(), language(), mine=mine), headers=web.NO_STORE)


@bp.route("/accounts", methods=["POST"], content_types=[FORM, JSON])
def create_account_from_form():
    """Create the account, remember its token in a cookie and open its messages page."""
    request = bp.current_request
    values = {}
    try:
        values = access.form_values(request, account_form.MAX_BODY_BYTES)
        account = account_form.parse_account(values)
        attempts.reserve(request)
        account_id, token, _existing = accounts.add(account)   # an existing mailbox: its page, with a token
    except web.AppError as exc:
        return web.html_response(pages.new_account(base(), language(), exc, values,
                                                   accounts.mine(access.cookie_tokens(request))),
                                 status=exc.status, headers=exc.headers)
    # The token travels in the cookie, not in the URL: it never lands in the address bar or the history.
    return web.redirect(f"{base()}/accounts/{account_id}", headers=dict(web.NO_STORE, **{"Set-Cookie": [
        access.set_cookie(request, account_id, token), access.link_cookie(request, account_id)]}))


@bp.route("/accounts/{account_id}", methods=["GET"])
def account_page(account_id):
    """The messages page; opening it starts an import unless one is running."""
    request = bp.current_request
    account = access.caller(request)
    token = access.token(request, account["id"])
    if (request.query_params or {}).get("token"):
        # A link with ?token=: keep the token in the cookie and load the page again without it in the URL.
        return web.redirect(access.without_token(request, f"{base()}/accounts/{account['id']}"),
                            headers=dict(web.NO_STORE, **{"Set-Cookie": [
                                access.set_cookie(request, account["id"], token),
                                access.link_cookie(request, account["id"])]}))
    job = jobs.on_page_open(account["id"])
    count, latest_id = message_list.stats(account["id"])
    link, headers = None, dict(web.NO_STORE)
    if access.shows_link(request, account["id"]):
        link = access.absolute_page_url(request, base(), account["id"], token)
        headers["Set-Cookie"] = access.link_cookie(request, account["id"], show=False)
    page = pages.account(base(), language(), account, token, settings.ws_public_url(), progress.job_event(job),
                         message_list.newest(account["id"], None, pages.LIVE_ROWS), count, latest_id, link)
    return web.html_response(page, headers=headers)


@bp.route("/accounts/{account_id}/delete", methods=["POST"], content_types=[FORM])
def delete_account(account_id):
    """Delete the mailbox with everything it holds (after the page's confirmation); the page says what goes."""
    request = bp.current_request
    account = access.caller(request)
    if access.form_values(request).get("confirm") != "yes":
        raise web.bad_request(pages.CONFIRM_DELETE, field="confirm")
    summary = deletion.request(account["id"])
    if summary is None:
        raise web.not_found(access.PAGE_GONE)
    return web.html_response(pages.deleted(base(), language(), summary), headers=dict(web.NO_STORE, **{
        "Set-Cookie": [access.forget_cookie(request, account["id"])]}))


@bp.route("/accounts/{account_id}/attachments/{attachment_id}", methods=["GET"])
def attachment(account_id, attachment_id):
    """An attachment's bytes, for the account's owner only."""
    account = access.caller(bp.current_request)
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
    return (bp.current_request.query_params or {}).get("images") == "1"


@bp.route("/accounts/{account_id}/messages/{message_id}", methods=["GET"])
def message_page(account_id, message_id):
    """One message; its HTML part in a sandboxed frame, remote images only once the reader allows them."""
    request = bp.current_request
    account = access.caller(request)
    found = _message(account, message_id)
    blocked = message_view.html_view.sanitize(found["html"]).blocked_images if found["html"] else 0
    page = pages.message(base(), language(), account, found, blocked, _images_allowed())
    headers = dict(web.NO_STORE)
    if (request.query_params or {}).get("token"):
        # The frame's request carries no token of its own: the cookie lets it in.
        headers["Set-Cookie"] = access.set_cookie(request, account["id"], access.token(request, account["id"]))
    return web.html_response(page, headers=headers)


@bp.route("/accounts/{account_id}/messages/{message_id}/html", methods=["GET"])
def message_html(account_id, message_id):
    """The frame document: the sanitised HTML part under a CSP that runs nothing and loads only what is allowed."""
    account = access.caller(bp.current_request)
    found = _message(account, message_id)
    if not found["html"]:
        raise web.not_found(access.PAGE_GONE)
    document, csp, _blocked = message_view.frame(found, language(), _images_allowed())
    return Response(body=document, status_code=200, headers={
        "Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"})
