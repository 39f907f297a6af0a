"""The pages: accounts, files and reports, API tokens (adapters; who may open them: access.py)."""
from chalice import Blueprint

from common import cookies, i18n, web

from .. import access, settings
from ..accounts import confirmation, sessions, tokens, users
from ..files import store
from ..web import forms, pages, views
from .shared import (FORM_TYPES, anonymous_fields, anonymous_form, client_address, form_of, page_id, site_url,
                     source_response)

bp = Blueprint(__name__)


def _me():
    return access.caller(bp.current_request)


def _render(template, status=200, **values):
    return pages.render(bp.current_request, template, status=status, **values)


def _form(expected_csrf):
    return form_of(bp.current_request, expected_csrf)


def _to(path, headers=None):
    return web.redirect(f"{web.base_path(bp.current_request)}{path}", headers=headers)


# ---- accounts ----------------------------------------------------------------------------------

def _anonymous_form(template, status=200, headers=None, **values):
    return anonymous_form(bp.current_request, template, status=status, headers=headers, **values)


def _signed_in(token):
    days = settings.load().session_days
    return _to("/", headers={"Set-Cookie": cookies.set_cookie(bp.current_request, sessions.COOKIE, token,
                                                              max_age=days * 86400)})


@bp.route("/register", methods=["GET"])
def register_page():
    return _anonymous_form("register.html", errors={}, email="")


@bp.route("/register", methods=["POST"], content_types=FORM_TYPES)
def register():
    fields = anonymous_fields(bp.current_request)
    config = settings.load()
    try:
        user_id, confirm_to, token = users.sign_up(config, fields.get("email"), fields.get("password"),
                                                   client_address(bp.current_request),
                                                   i18n.request_language(bp.current_request))
    except users.FormErrors as exc:
        return _anonymous_form("register.html", status=400, errors=exc.errors, email=fields.get("email", ""))
    response = _signed_in(token)
    confirmation.send(config, site_url(bp.current_request), user_id, confirm_to)
    return response


@bp.route("/confirm", methods=["GET"])
def confirm_page():
    """The link from the e-mail shows a button: opening the link alone (a mail scanner) uses nothing up."""
    token = (bp.current_request.query_params or {}).get("token") or ""
    try:
        _, email = confirmation.address_of(token)
    except confirmation.Unusable as exc:
        return _render("confirm.html", status=400, user=None, error=exc.message)
    return _render("confirm.html", user=None, error=None, token=token, email=email, done=False)


@bp.route("/confirm", methods=["POST"], content_types=FORM_TYPES)
def confirm():
    # No CSRF token: the link's own token is the proof, and a cross-site post cannot know it.
    fields, _ = forms.parse(bp.current_request.headers, bp.current_request.raw_body)
    email, error = confirmation.use(fields.get("token") or "")
    if error is None:
        return _render("confirm.html", user=None, error=None, email=email, done=True)
    return _render("confirm.html", status=400, user=None, error=error.message)


@bp.route("/confirm/resend", methods=["POST"], content_types=FORM_TYPES)
def resend_confirmation():
    me = _me()
    _form(me["csrf"])
    sent = confirmation.resend(settings.load(), site_url(bp.current_request), me["id"])
    return _render("files.html", status=200 if sent else 429, user=me, files=views.file_list(me["id"]),
                   results=None, resent=sent)


@bp.route("/login", methods=["GET"])
def login_page():
    return _anonymous_form("login.html", error=None, email="")


@bp.route("/login", methods=["POST"], content_types=FORM_TYPES)
def login():
    fields = anonymous_fields(bp.current_request)
    user_id, error = users.login(fields.get("email"), fields.get("password"), client_address(bp.current_request))
    if user_id is not None:
        return _signed_in(sessions.start(user_id, settings.load().session_days))
    message = pages.translate(bp.current_request, error.message, error.params)
    return _anonymous_form("login.html", status=error.status, headers=error.headers, error=message,
                           email=fields.get("email", ""))


@bp.route("/logout", methods=["POST"], content_types=FORM_TYPES)
def logout():
    me = _me()
    if me is not None:
        _form(me["csrf"])
        sessions.sign_out(cookies.read(bp.current_request, sessions.COOKIE))
    return _to("/login", headers={"Set-Cookie": cookies.clear(bp.current_request, sessions.COOKIE)})


# ---- files -------------------------------------------------------------------------------------

@bp.route("/", methods=["GET"])
def files_page():
    me = _me()
    return _render("files.html", user=me, files=views.file_list(me["id"]), results=None)


@bp.route("/files", methods=["POST"], content_types=FORM_TYPES)
def upload_files():
    me = _me()
    _, files = _form(me["csrf"])
    results = []
    for name, outcome in store.upload_each(settings.load().bucket, me["id"], files):
        if isinstance(outcome, store.Stored):
            results.append({"ok": True, "name": outcome.name, "outcome": outcome.outcome,
                            "version": outcome.version, "file_id": outcome.file_id})
        else:
            results.append({"ok": False, "message": pages.translate(bp.current_request, outcome.message,
                                                                    outcome.params)})
    if not results:
        results = [{"ok": False, "message": pages.translate(bp.current_request, forms.NO_FILES)}]
    status = 200 if any(r["ok"] for r in results) else 400
    return _render("files.html", status=status, user=me, files=views.file_list(me["id"]), results=results)


@bp.route("/files/{file_id}", methods=["GET"])
def file_page(file_id):
    me = _me()
    number = (bp.current_request.query_params or {}).get("version")
    found, selected, found_report = views.file_page(me["id"], page_id(file_id),
                                                    None if number is None else page_id(number, store.NO_VERSION))
    return _render("file.html", user=me, file=found, selected=selected, report=found_report)


@bp.route("/files/{file_id}/versions/{version}/source", methods=["GET"])
def download(file_id, version):
    found = store.version_of(_me()["id"], page_id(file_id), page_id(version, store.NO_VERSION))
    return source_response(settings.load(), found)


@bp.route("/files/{file_id}/delete", methods=["POST"], content_types=FORM_TYPES)
def delete_file(file_id):
    me = _me()
    _form(me["csrf"])
    store.delete_own(me["id"], page_id(file_id))
    return _to(f"/files/{page_id(file_id)}")


# ---- API tokens --------------------------------------------------------------------------------

@bp.route("/tokens", methods=["GET"])
def tokens_page():
    me = _me()
    return _render("tokens.html", user=me, tokens=tokens.tokens_of(me["id"]), new_token=None)


@bp.route("/tokens", methods=["POST"], content_types=FORM_TYPES)
def create_token():
    me = _me()
    fields, _ = _form(me["csrf"])
    token, listed = tokens.issue(me["id"], fields.get("name"))
    # Shown on this answer only; the page is not cached and the token is never in a URL.
    return _render("tokens.html", status=201, user=me, tokens=listed, new_token=token)


@bp.route("/tokens/{token_id}/revoke", methods=["POST"], content_types=FORM_TYPES)
def revoke_token(token_id):
    me = _me()
    _form(me["csrf"])
    tokens.revoke_own(me["id"], page_id(token_id))
    return _to("/tokens")
