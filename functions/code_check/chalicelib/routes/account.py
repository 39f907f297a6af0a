"""The account's life: a forgotten password, the account page (password, e-mail address) (adapters; who may
open them: access.py)."""
from chalice import Blueprint

from common import cookies, i18n, throttle
from common.i18n import N_

from .. import access, settings
from ..accounts import deletion, profile, recovery, sessions, users
from ..web import forms, pages
from .shared import FORM_TYPES, anonymous_fields, anonymous_form, client_address, form_of, site_url

bp = Blueprint(__name__)
PASSWORD_CHANGED = N_("The password is changed; your other sessions have ended.")
LINK_SENT = N_("A link is on its way to the new address; reports go to the current one until it is opened.")
LINK_NOT_SENT = N_("The link could not be sent; try again later.")


def _request():
    return bp.current_request


# ---- a forgotten password ------------------------------------------------------------------------

@bp.route("/password/forgot", methods=["GET"])
def forgot_page():
    return anonymous_form(_request(), "forgot.html", sent=False, error=None, errors={}, email="")


@bp.route("/password/forgot", methods=["POST"], content_types=FORM_TYPES)
def forgot():
    request = _request()
    fields = anonymous_fields(request)
    email = fields.get("email", "")
    try:
        recovery.request(settings.load(), site_url(request), email, client_address(request),
                         i18n.request_language(request))
    except users.FormErrors as exc:
        return anonymous_form(request, "forgot.html", status=400, sent=False, error=None, errors=exc.errors,
                              email=email)
    except throttle.Refused as refused:
        message = pages.translate(request, refused.message, refused.params)
        return anonymous_form(request, "forgot.html", status=429, headers=refused.headers, sent=False,
                              error=message, errors={}, email=email)
    return anonymous_form(request, "forgot.html", sent=True)


@bp.route("/password/reset", methods=["GET"])
def reset_page():
    """The link from the e-mail shows a form: opening the link alone (a mail scanner) uses nothing up."""
    token = (_request().query_params or {}).get("token") or ""
    try:
        recovery.check(token)
    except recovery.Unusable as exc:
        return pages.render(_request(), "reset.html", status=400, user=None, error=exc.message)
    return pages.render(_request(), "reset.html", user=None, error=None, token=token, errors={})


@bp.route("/password/reset", methods=["POST"], content_types=FORM_TYPES)
def reset():
    # No CSRF token: the link's own token is the proof, and a cross-site post cannot know it.
    fields, _ = forms.parse(_request().headers, _request().raw_body)
    token = fields.get("token") or ""
    try:
        email = recovery.reset(token, fields.get("password"))
    except recovery.Unusable as exc:
        return pages.render(_request(), "reset.html", status=400, user=None, error=exc.message)
    except users.FormErrors as exc:
        return pages.render(_request(), "reset.html", status=400, user=None, error=None, token=token,
                            errors=exc.errors)
    return pages.render(_request(), "reset.html", user=None, error=None, done=True, email=email,
                        headers={"Set-Cookie": cookies.clear(_request(), sessions.COOKIE)})


# ---- the account page ----------------------------------------------------------------------------

def _account_page(status=200, **values):
    me = access.caller(_request())
    values.setdefault("errors", {})
    return pages.render(_request(), "account.html", status=status, user=me, pending=profile.pending_of(me["id"]),
                        **values)


@bp.route("/account", methods=["GET"])
def account_page():
    return _account_page()


@bp.route("/account/password", methods=["POST"], content_types=FORM_TYPES)
def change_password():
    request, me = _request(), access.caller(_request())
    fields, _ = form_of(request, me["csrf"])
    try:
        profile.change_password(me, fields.get("current"), fields.get("new"),
                                cookies.read(request, sessions.COOKIE), client_address(request))
    except users.FormErrors as exc:
        return _account_page(status=400, errors=exc.errors, form="password")
    return _account_page(done=PASSWORD_CHANGED)


@bp.route("/account/email", methods=["POST"], content_types=FORM_TYPES)
def change_email():
    request, me = _request(), access.caller(_request())
    fields, _ = form_of(request, me["csrf"])
    try:
        sent = profile.request_email_change(settings.load(), site_url(request), me, fields.get("email"),
                                            fields.get("current"), client_address(request),
                                            i18n.request_language(request))
    except users.FormErrors as exc:
        return _account_page(status=400, errors=exc.errors, form="email", email=fields.get("email", ""))
    if not sent:
        return _account_page(status=503, error=pages.translate(request, LINK_NOT_SENT))
    return _account_page(done=LINK_SENT)


@bp.route("/account/delete", methods=["POST"], content_types=FORM_TYPES)
def delete_account():
    request, me = _request(), access.caller(_request())
    fields, _ = form_of(request, me["csrf"])
    try:
        deletion.request(settings.load(), me, fields.get("current"), client_address(request))
    except users.FormErrors as exc:
        return _account_page(status=400, errors=exc.errors, form="delete")
    return pages.render(request, "deleted.html", user=None, email=me["email"],
                        headers={"Set-Cookie": cookies.clear(request, sessions.COOKIE)})


@bp.route("/account/email/confirm", methods=["GET"])
def email_change_page():
    token = (_request().query_params or {}).get("token") or ""
    try:
        email = profile.pending_email(token)
    except profile.Unusable as exc:
        return pages.render(_request(), "email_change.html", status=400, user=None, error=exc.message)
    return pages.render(_request(), "email_change.html", user=None, error=None, token=token, email=email)


@bp.route("/account/email/confirm", methods=["POST"], content_types=FORM_TYPES)
def confirm_email_change():
    # No CSRF token: the link's own token is the proof, and a cross-site post cannot know it.
    fields, _ = forms.parse(_request().headers, _request().raw_body)
    email, error = profile.confirm_email(fields.get("token") or "")
    if error is not None:
        return pages.render(_request(), "email_change.html", status=400, user=None, error=error.message)
    return pages.render(_request(), "email_change.html", user=None, error=None, done=True, email=email)
