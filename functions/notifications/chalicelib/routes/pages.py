"""The admin page: sign-in, the dashboard (mailings with counts, clients, the forms), a mailing's live
progress. Same operators and tokens as the API (the token in an HttpOnly SameSite=Strict cookie)."""
from datetime import datetime
from urllib.parse import urlencode

from chalice import Blueprint

from common import cookies, i18n, validate, web

from .. import access, settings
from ..admin import forms, messages, pages
from ..api import auth
from ..clients import actions as clients, importer
from ..clock import now
from ..mailings import actions as mailings
from ..stats import reports

bp = Blueprint(__name__)
FORM = ["application/x-www-form-urlencoded"]
DASHBOARD_CLIENTS = 200
MAILING_MESSAGES = 200
CLIENT_PAGE = 50


def _language():
    return i18n.request_language(bp.current_request)


def _base():
    return web.base_path(bp.current_request)


def _render(template, status=200, headers=None, **values):
    language = _language()
    gettext = pages.PAGES.gettext(language)
    values.setdefault("signed_in", True)
    text = pages.render(template, language, base=_base(),
                        states={k: gettext(v) for k, v in messages.STATES.items()},
                        statuses={k: gettext(v) for k, v in messages.STATUSES.items()}, **values)
    return web.html_response(text, status=status, headers=dict(web.NO_STORE, **(headers or {})))


def error_page(error):
    """The page of a failed admin request (web.map_errors): the sign-in form when signing in is the answer."""
    signed_in = error.status not in (401, 429)
    return pages.render("error.html" if signed_in else "login.html", _language(), base=_base(),
                        signed_in=signed_in, error=pages.error_text(error, _language()), states={}, statuses={})


def _operator():
    return access.caller(bp.current_request)


def _back(path=""):
    return web.redirect(f"{_base()}/admin{path}", headers=web.NO_STORE)


def _dashboard(error=None, status=200):
    return _render("dashboard.html", status=status, error=error, **reports.dashboard(DASHBOARD_CLIENTS))


def _form_action(action):
    """Run a form's change; its error (bad field, conflict) is shown on the dashboard with the status."""
    try:
        return action()
    except web.AppError as error:
        return _dashboard(error=pages.error_text(error, _language()), status=error.status)


@bp.route("/", methods=["GET"])
def home():
    return _back()


@bp.route("/admin", methods=["GET"])
def admin_home():
    if access.caller(bp.current_request) is None:
        return _render("login.html", signed_in=False)
    return _dashboard()


@bp.route("/admin/login", methods=["POST"], content_types=FORM)
def admin_login():
    request = bp.current_request
    form = forms.fields(request.raw_body)
    config = settings.load()
    try:
        token, expires = auth.sign_in(form.get("username", ""), form.get("password", ""),
                                      auth.client_address(request), now(), config.token_hours,
                                      config.first_operator_password)
    except web.AppError as exc:
        if exc.status == 429:       # too many attempts: the page says when to come back
            raise
        raise web.AppError(401, messages.WRONG_CREDENTIALS) from None
    cookie = cookies.set_cookie(request, auth.COOKIE, token, max_age=(expires - now()).total_seconds(),
                                same_site="Strict")
    return web.redirect(f"{_base()}/admin", headers=dict(web.NO_STORE, **{"Set-Cookie": cookie}))


@bp.route("/admin/logout", methods=["POST"], content_types=FORM)
def admin_logout():
    request = bp.current_request
    auth.sign_out(auth.cookie_token(request))
    return web.redirect(f"{_base()}/admin", headers=dict(web.NO_STORE, **{"Set-Cookie": cookies.clear(
        request, auth.COOKIE)}))


@bp.route("/admin/clients", methods=["POST"], content_types=FORM)
def admin_create_client():
    form = forms.fields(bp.current_request.raw_body)

    def create():
        clients.create(forms.client_body(form), _operator())
        return _back()
    return _form_action(create)


@bp.route("/admin/clients", methods=["GET"])
def admin_clients():
    """The client base, searched (phone prefix, operator code, tag, time zone) and paged by id."""
    query = bp.current_request.query_params or {}
    try:
        filters = forms.client_search(query)
    except web.AppError as error:
        return _render("clients.html", status=error.status, error=pages.error_text(error, _language()),
                       filters={name: query.get(name, "") for name in forms.SEARCH_FIELDS}, clients=[],
                       next_query=None)
    found = clients.search(filters, validate.query_integer(query, "after", 0, 0, validate.MAX_ID), CLIENT_PAGE)
    next_query = None
    if found["next_after"] is not None:
        next_query = urlencode(dict(filters, after=found["next_after"]))
    return _render("clients.html", filters=filters, clients=found["items"], next_query=next_query,
                   after=query.get("after"))


@bp.route("/admin/import", methods=["GET"])
def admin_import_page():
    return _render("import.html", csv="", preview=None)


@bp.route("/admin/import", methods=["POST"], content_types=FORM)
def admin_import():
    """step=preview: what storing would do (per-row errors), nothing stored; step=store: the valid new rows."""
    form = forms.import_fields(bp.current_request.raw_body)
    text = form.get("csv", "")
    try:
        if form.get("step") == "store":
            added = importer.store(text, _operator())
            return _render("import.html", csv="", preview=None, added=added)
        found = importer.preview(text)
    except web.AppError as error:
        return _render("import.html", status=error.status, error=pages.error_text(error, _language()), csv=text,
                       preview=None)
    gettext = pages.PAGES.gettext(_language())
    found["shown"] = [(row, field, gettext(message) % params if params else gettext(message))
                      for row, field, message, params in found["shown"]]
    return _render("import.html", csv=text, preview=found)


@bp.route("/admin/clients/{id}", methods=["GET"])
def admin_client(id):
    return _render("client.html", client=clients.get(validate.identifier(id)))


@bp.route("/admin/clients/{id}", methods=["POST"], content_types=FORM)
def admin_update_client(id):
    client_id = validate.identifier(id)
    form = forms.fields(bp.current_request.raw_body)
    try:
        clients.update(client_id, forms.client_change(form), _operator())
    except web.AppError as error:
        return _render("client.html", status=error.status, error=pages.error_text(error, _language()),
                       client=dict(clients.get(client_id), **{k: form.get(k, "") for k in forms.SEARCH_FIELDS}))
    return web.redirect(f"{_base()}/admin/clients", headers=web.NO_STORE)


@bp.route("/admin/clients/{id}/delete", methods=["POST"], content_types=FORM)
def admin_delete_client(id):
    client_id = validate.identifier(id)

    def delete():
        clients.delete(client_id, _operator())
        return _back()
    return _form_action(delete)


@bp.route("/admin/mailings", methods=["POST"], content_types=FORM)
def admin_create_mailing():
    form = forms.fields(bp.current_request.raw_body)

    def create():
        mailing = mailings.create(forms.mailing_body(form), now(), _operator())
        return _back(f"/mailings/{mailing['id']}")
    return _form_action(create)


@bp.route("/admin/mailings/{id}/delete", methods=["POST"], content_types=FORM)
def admin_delete_mailing(id):
    mailing_id = validate.identifier(id)

    def delete():
        mailings.delete(mailing_id, now(), _operator())
        return _back()
    return _form_action(delete)


@bp.route("/admin/mailings/{id}", methods=["GET"])
def admin_mailing(id):
    return _mailing_page(validate.identifier(id))


def _mailing_page(mailing_id, error=None, status=200):
    found = reports.mailing_stats(mailing_id, 0, MAILING_MESSAGES, deleted_too=True)
    mailing = found["mailing"]
    moment = now()
    return _render("mailing.html", status=status, error=error, mailing=mailing, counts=found["counts"],
                   messages=found["messages"], started=forms.started(mailing, moment),
                   running=forms.started(mailing, moment) and datetime.fromisoformat(mailing["end"]) > moment,
                   local={name: forms.local_time(mailing[name]) for name in ("start", "end")},
                   zone=forms.DEFAULT_ZONE)


def _mailing_action(mailing_id, action):
    """A change on a mailing's page: back to the page, or the page with the error (bad field, conflict)."""
    try:
        action()
    except web.AppError as error:
        return _mailing_page(mailing_id, error=pages.error_text(error, _language()), status=error.status)
    return _back(f"/mailings/{mailing_id}")


@bp.route("/admin/mailings/{id}/edit", methods=["POST"], content_types=FORM)
def admin_update_mailing(id):
    mailing_id = validate.identifier(id)
    form = forms.fields(bp.current_request.raw_body)

    def change():
        started = forms.started(mailings.get(mailing_id), now())
        mailings.update(mailing_id, forms.mailing_change(form, started), now(), _operator())
    return _mailing_action(mailing_id, change)


@bp.route("/admin/mailings/{id}/stop", methods=["POST"], content_types=FORM)
def admin_stop_mailing(id):
    """Ends a running mailing now; the form must carry the operator's confirmation."""
    mailing_id = validate.identifier(id)
    form = forms.fields(bp.current_request.raw_body)

    def stop():
        if form.get("confirm") != "yes":
            raise web.bad_request(messages.CONFIRM_STOP, field="confirm")
        mailings.stop(mailing_id, now(), _operator())
    return _mailing_action(mailing_id, stop)


@bp.route("/admin/mailings/{id}/progress", methods=["GET"])
def admin_progress(id):
    return web.json_response(reports.progress(validate.identifier(id)), headers=web.NO_STORE)
