"""code_check: pages, the partner API, the scheduled checker and the e-mail notifier (thin adapters)."""
import functools
import secrets
from urllib.parse import quote

from chalice import Chalice, Response

from chalicelib import config
from chalicelib.accounts import confirmation, sessions, tokens, users
from chalicelib.api import docs, payloads
from chalicelib.checks import options, report, tick
from chalicelib.files import names, store
from chalicelib.reports import notifier
from chalicelib.web import badge, forms, pages, views
from common import batch, db, validate, web
from common.i18n import N_

app = Chalice(app_name="code_check")
# Downloads are the stored bytes in the file's own encoding: sent base64-encoded, never re-encoded.
app.api.binary_types.append("text/x-python")
FORM_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data"]
JSON_TYPES = ["application/json"]


@app.middleware("http")
def framework_errors(event, get_response):
    return web.reshape_framework_error(get_response(event))


def page(view):
    """Page routes: errors become a page in the reader's language."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        return web.html_errors(pages.error_page(app.current_request))(view)(*args, **kwargs)
    return wrapper


def _request():
    request = app.current_request
    return request, request.headers, web.base_path(request)


def _session(cur):
    return sessions.lookup(cur, sessions.cookies(app.current_request.headers).get(sessions.COOKIE))


def _to_login():
    return web.redirect(f"{web.base_path(app.current_request)}/login")


def signed_in(view):
    """Page routes for a signed-in user: view(cur, me, **url_params) inside one transaction; anyone else is
    sent to the login page."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        with db.pg_transaction() as cur:
            me = _session(cur)
            if me is None:
                return _to_login()
            return view(cur, me, *args, **kwargs)
    return wrapper


def _form(expected_csrf):
    """The posted form's (fields, files) after its CSRF token is checked."""
    request = app.current_request
    fields, files = forms.parse(request.headers, request.raw_body)
    if not sessions.csrf_ok(expected_csrf, fields.get("csrf")):
        raise web.AppError(403, forms.FORM_EXPIRED)
    return fields, files


# ---- accounts ----------------------------------------------------------------------------------

def _anonymous_form(template, status=200, headers=None, **values):
    """Login/register page with a double-submit CSRF cookie (there is no session yet)."""
    request = app.current_request
    token = sessions.cookies(request.headers).get(sessions.PRE_COOKIE) or secrets.token_urlsafe(24)
    cookie = sessions.cookie_header(sessions.PRE_COOKIE, token, request.headers)
    return pages.render(request, template, status=status, headers={**(headers or {}), "Set-Cookie": cookie},
                        csrf=token, user=None, **values)


def _anonymous_csrf():
    return sessions.cookies(app.current_request.headers).get(sessions.PRE_COOKIE)


def _signed_in_response(cur, user_id):
    request, headers, base = _request()
    config_ = config.settings()
    token, _ = sessions.create(cur, user_id, config_.session_days)
    cookie = sessions.cookie_header(sessions.COOKIE, token, headers,
                                    max_age=config_.session_days * 86400)
    return web.redirect(f"{base}/", headers={"Set-Cookie": cookie})


@app.route("/register", methods=["GET"])
@page
def register_page():
    return _anonymous_form("register.html", errors={}, email="")


@app.route("/register", methods=["POST"], content_types=FORM_TYPES)
@page
def register():
    fields, _ = _form(_anonymous_csrf())
    settings = config.settings()
    with db.pg_transaction() as cur:
        try:
            user_id = users.register(cur, fields.get("email"), fields.get("password"), _client_address(),
                                     settings.registrations_per_hour)
        except users.FormErrors as exc:
            return _anonymous_form("register.html", status=400, errors=exc.errors, email=fields.get("email", ""))
        address = confirmation.may_send(cur, user_id)
        response = _signed_in_response(cur, user_id)
    confirmation.send(settings, _api_base(), user_id, address)
    return response


def _client_address():
    return ((app.current_request.context or {}).get("identity") or {}).get("sourceIp")


@app.route("/confirm", methods=["GET"])
@page
def confirm_page():
    """The link from the e-mail shows a button: opening the link alone (a mail scanner) uses nothing up."""
    token = (app.current_request.query_params or {}).get("token") or ""
    try:
        _, email = confirmation.address_of(token)
    except confirmation.Unusable as exc:
        return pages.render(app.current_request, "confirm.html", status=400, user=None, error=exc.message)
    return pages.render(app.current_request, "confirm.html", user=None, error=None, token=token, email=email,
                        done=False)


@app.route("/confirm", methods=["POST"], content_types=FORM_TYPES)
@page
def confirm():
    # No CSRF token: the link's own token is the proof, and a cross-site post cannot know it.
    fields, _ = forms.parse(app.current_request.headers, app.current_request.raw_body)
    with db.pg_transaction() as cur:
        try:
            email = confirmation.confirm(cur, fields.get("token") or "")
        except confirmation.Unusable as exc:
            error = exc
        else:
            return pages.render(app.current_request, "confirm.html", user=None, error=None, email=email, done=True)
    return pages.render(app.current_request, "confirm.html", status=400, user=None, error=error.message)


@app.route("/confirm/resend", methods=["POST"], content_types=FORM_TYPES)
@page
@signed_in
def resend_confirmation(cur, me):
    _form(me["csrf"])
    address = confirmation.may_send(cur, me["id"])
    sent = bool(address) and confirmation.send(config.settings(), _api_base(), me["id"], address)
    return pages.render(app.current_request, "files.html", status=200 if sent else 429, user=me,
                        files=views.file_list(cur, me["id"]), results=None, resent=sent)


@app.route("/login", methods=["GET"])
@page
def login_page():
    return _anonymous_form("login.html", error=None, email="")


@app.route("/login", methods=["POST"], content_types=FORM_TYPES)
@page
def login():
    fields, _ = _form(_anonymous_csrf())
    address = ((app.current_request.context or {}).get("identity") or {}).get("sourceIp")
    user_id, error = users.login(fields.get("email"), fields.get("password"), address)
    if user_id is not None:
        with db.pg_transaction() as cur:
            return _signed_in_response(cur, user_id)
    message = pages.translate(app.current_request, error.message, error.params)
    return _anonymous_form("login.html", status=error.status, headers=error.headers, error=message,
                           email=fields.get("email", ""))


@app.route("/logout", methods=["POST"], content_types=FORM_TYPES)
@page
def logout():
    request, headers, base = _request()
    token = sessions.cookies(headers).get(sessions.COOKIE)
    with db.pg_transaction() as cur:
        me = _session(cur)
        if me is not None:
            _form(me["csrf"])
            sessions.end(cur, token)
    cookie = sessions.cookie_header(sessions.COOKIE, "", headers, max_age=0)
    return web.redirect(f"{base}/login", headers={"Set-Cookie": cookie})


# ---- files (pages) -----------------------------------------------------------------------------

@app.route("/", methods=["GET"])
@page
@signed_in
def files_page(cur, me):
    return pages.render(app.current_request, "files.html", user=me, files=views.file_list(cur, me["id"]),
                        results=None)


@app.route("/files", methods=["POST"], content_types=FORM_TYPES)
@page
def upload_files():
    settings = config.settings()
    with db.pg_transaction() as cur:
        me = _session(cur)
        if me is None:
            return _to_login()
        _, files = _form(me["csrf"])
    results = [_upload_one(settings, me["id"], name, data) for name, data in files]
    if not results:
        results = [{"ok": False, "message": pages.translate(app.current_request, forms.NO_FILES)}]
    with db.pg_transaction() as cur:
        status = 200 if any(r["ok"] for r in results) else 400
        return pages.render(app.current_request, "files.html", status=status, user=me,
                            files=views.file_list(cur, me["id"]), results=results)


def _upload_one(settings, user_id, name, data):
    """Each file in its own transaction: a refused or failing file never stops the others."""
    try:
        with db.pg_transaction() as cur:
            stored = store.upload(cur, settings.bucket, user_id, name, data)
        return {"ok": True, "name": stored.name, "outcome": stored.outcome, "version": stored.version,
                "file_id": stored.file_id}
    except names.Refused as exc:
        return {"ok": False, "message": pages.translate(app.current_request, exc.message, exc.params)}


@app.route("/files/{file_id}", methods=["GET"])
@page
@signed_in
def file_page(cur, me, file_id):
    request = app.current_request
    number = (request.query_params or {}).get("version")
    found, selected, found_report = views.file_page(cur, me["id"], _page_id(file_id),
                                                    None if number is None else _page_id(number, store.NO_VERSION))
    return pages.render(request, "file.html", user=me, file=found, selected=selected, report=found_report)


@app.route("/files/{file_id}/versions/{version}/source", methods=["GET"])
@page
def download(file_id, version):
    settings = config.settings()
    with db.pg_transaction() as cur:
        me = _session(cur)
        if me is None:
            return _to_login()
        found = store.get_version(cur, me["id"], _page_id(file_id), _page_id(version, store.NO_VERSION))
    return _source_response(settings, found)


@app.route("/files/{file_id}/delete", methods=["POST"], content_types=FORM_TYPES)
@page
@signed_in
def delete_file(cur, me, file_id):
    _form(me["csrf"])
    store.delete(cur, me["id"], _page_id(file_id))
    return web.redirect(f"{web.base_path(app.current_request)}/files/{_page_id(file_id)}")


@app.route("/badges/{badge_name}", methods=["GET"])
@web.json_errors
def file_badge(badge_name):
    key = validate.text(badge_name[:-4] if badge_name.endswith(".svg") else badge_name, "badge_name", 200)
    with db.pg_transaction() as cur:
        state, text = badge.status_of(store.file_by_badge(cur, key))
    return Response(body=badge.svg(state, text), status_code=200,
                    headers={"Content-Type": "image/svg+xml; charset=utf-8", "Cache-Control": "no-cache",
                             "X-Content-Type-Options": "nosniff"})


def _page_id(value, missing=None):
    """A page's id from its URL; anything that is not one is simply absent (404)."""
    try:
        return validate.identifier(value, maximum=2 ** 62 - 1)
    except web.AppError:
        raise web.not_found(missing or N_("No such file")) from None


def _source_response(settings, version):
    data = store.read_version(settings.bucket, version["s3_key"], version["s3_version_id"])
    return Response(body=data, status_code=200, headers={
        "Content-Type": "text/x-python", "Content-Disposition": f'attachment; filename="{quote(version["name"])}"',
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


# ---- API tokens (pages) ------------------------------------------------------------------------

@app.route("/tokens", methods=["GET"])
@page
@signed_in
def tokens_page(cur, me):
    return pages.render(app.current_request, "tokens.html", user=me, tokens=tokens.list_tokens(cur, me["id"]),
                        new_token=None)


@app.route("/tokens", methods=["POST"], content_types=FORM_TYPES)
@page
@signed_in
def create_token(cur, me):
    fields, _ = _form(me["csrf"])
    token, _ = tokens.create(cur, me["id"], fields.get("name"))
    # Shown on this answer only; the page is not cached and the token is never in a URL.
    return pages.render(app.current_request, "tokens.html", status=201, user=me,
                        tokens=tokens.list_tokens(cur, me["id"]), new_token=token)


@app.route("/tokens/{token_id}/revoke", methods=["POST"], content_types=FORM_TYPES)
@page
@signed_in
def revoke_token(cur, me, token_id):
    _form(me["csrf"])
    tokens.revoke(cur, me["id"], _page_id(token_id))
    return web.redirect(f"{web.base_path(app.current_request)}/tokens")


# ---- partner API -------------------------------------------------------------------------------

def _api_base():
    """The URL the caller used, up to the stage (API links, confirmation links): API Gateway's Host and
    X-Forwarded-Proto headers (on AWS the Host is the API's own domain, whatever the client sent)."""
    request = app.current_request
    proto = request.headers.get("x-forwarded-proto", "https")
    host = request.headers.get("host") or (request.context or {}).get("domainName")
    if not host:        # API Gateway always sends one; a hand-made event may not
        raise web.bad_request("The request has no Host header.", field="Host")
    return f"{proto}://{host}{web.base_path(request)}"


def _tagged(body, status=200):
    etag = payloads.etag_of(body)
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if payloads.not_modified(app.current_request.headers, etag):
        return Response(body="", status_code=304, headers=headers)
    return web.json_response(body, status=status, headers=headers)


@app.route("/api/files", methods=["GET"])
@web.json_errors
def api_list_files():
    with db.pg_transaction() as cur:
        me = tokens.authenticate(cur, app.current_request.headers)
        files = store.list_files(cur, me["id"])
    return _tagged({"files": [payloads.file_json(row, _api_base()) for row in files]})


@app.route("/api/files", methods=["POST"], content_types=JSON_TYPES)
@web.json_errors
def api_upload():
    settings = config.settings()
    with db.pg_transaction() as cur:
        me = tokens.authenticate(cur, app.current_request.headers)
    uploads = payloads.parse_upload(app.current_request.raw_body)
    results = []
    for index, (name, data) in enumerate(uploads):
        try:
            with db.pg_transaction() as cur:
                stored = store.upload(cur, settings.bucket, me["id"], name, data)
            results.append({"name": stored.name, "status": stored.outcome, "file_id": stored.file_id,
                            "version": stored.version})
        except names.Refused as exc:
            results.append({"name": name, "status": "refused", "reason": str(exc),
                            "field": f"files[{index}].{exc.field}"})
    return web.json_response({"results": results}, status=200)


@app.route("/api/files/{file_id}", methods=["GET"])
@web.json_errors
def api_get_file(file_id):
    with db.pg_transaction() as cur:
        me = tokens.authenticate(cur, app.current_request.headers)
        found = store.get_file(cur, me["id"], payloads.parse_id(file_id, "file_id"))
    body = payloads.file_json(found, _api_base())
    body["versions"] = [{"version": v["number"], "size": v["size"], "lines": v["line_count"], "sha256": v["sha256"],
                         "uploaded_at": v["uploaded_at"], "checked": v["checked_at"] is not None}
                        for v in found["versions"]]
    return _tagged(body)


@app.route("/api/files/{file_id}", methods=["PUT"], content_types=JSON_TYPES)
@web.json_errors
def api_replace(file_id):
    settings = config.settings()
    with db.pg_transaction() as cur:
        me = tokens.authenticate(cur, app.current_request.headers)
        data = payloads.parse_replace(app.current_request.raw_body)
        try:
            stored = store.replace(cur, settings.bucket, me["id"], payloads.parse_id(file_id, "file_id"), data)
        except names.Refused as exc:
            raise web.AppError(422, str(exc), field="content") from None
    return web.json_response({"name": stored.name, "status": stored.outcome, "file_id": stored.file_id,
                              "version": stored.version})


@app.route("/api/files/{file_id}", methods=["DELETE"])
@web.json_errors
def api_delete(file_id):
    with db.pg_transaction() as cur:
        me = tokens.authenticate(cur, app.current_request.headers)
        store.delete(cur, me["id"], payloads.parse_id(file_id, "file_id"))
    return web.no_content()


@app.route("/api/files/{file_id}/versions/{version}", methods=["GET"])
@web.json_errors
def api_version(file_id, version):
    with db.pg_transaction() as cur:
        me = tokens.authenticate(cur, app.current_request.headers)
        file_id = payloads.parse_id(file_id, "file_id")
        found = store.get_version(cur, me["id"], file_id, payloads.parse_id(version, "version"))
        body = payloads.version_json(found, report.version_report(cur, file_id, found))
    return _tagged(body)


@app.route("/api/files/{file_id}/versions/{version}/source", methods=["GET"])
@web.json_errors
def api_source(file_id, version):
    settings = config.settings()
    with db.pg_transaction() as cur:
        me = tokens.authenticate(cur, app.current_request.headers)
        found = store.get_version(cur, me["id"], payloads.parse_id(file_id, "file_id"),
                                  payloads.parse_id(version, "version"))
    return _source_response(settings, found)


@app.route("/api/options", methods=["GET"])
@web.json_errors
def api_options():
    return web.json_response({"flake8": options.FLAKE8_OPTIONS, "command_line": options.command_line()})


@app.route("/api/openapi.json", methods=["GET"])
@web.json_errors
def api_spec():
    return web.json_response(docs.spec(web.base_path(app.current_request) or "/"))


@app.route("/api/doc", methods=["GET"])
@web.json_errors
def api_doc():
    return web.html_response(docs.page())


@app.route("/api/doc/{asset}", methods=["GET"])
@web.json_errors
def api_doc_asset(asset):
    found = docs.asset(asset)
    if found is None:
        raise web.not_found("No such documentation file")
    text, content_type = found
    return Response(body=text, status_code=200,
                    headers={"Content-Type": content_type, "Cache-Control": "public, max-age=86400"})


# ---- the checker and the notifier ---------------------------------------------------------------

@app.schedule("rate(1 minute)")
def check_tick(event):
    return tick.tick(config.settings())


@app.on_sqs_message(queue="code-check-reports", batch_size=10)
def send_reports(event):
    settings = config.notifier_settings()
    # heartbeat: a notifier that dies mid-batch has its records back within a minute, not the queue's timeout.
    return batch.process(event, lambda record: notifier.handle_record(settings, record), heartbeat=True)
