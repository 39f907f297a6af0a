"""What the pages and the API blueprints both need from a request."""
import secrets
from urllib.parse import quote

from chalice import Response

from common import cookies, validate, web
from common.i18n import N_

from ..accounts import sessions
from ..files import store
from ..web import forms, pages

FORM_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data"]
JSON_TYPES = ["application/json"]


def site_url(request):
    """The URL the caller used, up to the stage (API links, confirmation links): API Gateway's Host and
    X-Forwarded-Proto headers (on AWS the Host is the API's own domain, whatever the client sent)."""
    proto = request.headers.get("x-forwarded-proto", "https")
    host = request.headers.get("host") or (request.context or {}).get("domainName")
    if not host:        # API Gateway always sends one; a hand-made event may not
        raise web.bad_request("The request has no Host header.", field="Host")
    return f"{proto}://{host}{web.base_path(request)}"


def client_address(request):
    return ((request.context or {}).get("identity") or {}).get("sourceIp")


def page_id(value, missing=None):
    """A page's id from its URL; anything that is not one is simply absent (404)."""
    try:
        return validate.identifier(value, maximum=2 ** 62 - 1)
    except web.AppError:
        raise web.not_found(missing or N_("No such file")) from None


def source_response(settings, version):
    """A stored version's bytes as a download, in the file's own encoding."""
    data = store.read_version(settings.bucket, version["s3_key"], version["s3_version_id"])
    return Response(body=data, status_code=200, headers={
        "Content-Type": "text/x-python", "Content-Disposition": f'attachment; filename="{quote(version["name"])}"',
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


def form_of(request, expected_csrf):
    """The posted form's (fields, files) after its CSRF token is checked."""
    fields, files = forms.parse(request.headers, request.raw_body)
    if not sessions.csrf_ok(expected_csrf, fields.get("csrf")):
        raise web.AppError(403, forms.FORM_EXPIRED)
    return fields, files


def anonymous_form(request, template, status=200, headers=None, **values):
    """A page with a form for someone not signed in (login, register, forgotten password), its CSRF token a
    double-submit cookie."""
    token = cookies.read(request, sessions.PRE_COOKIE) or secrets.token_urlsafe(24)
    cookie = cookies.set_cookie(request, sessions.PRE_COOKIE, token)
    return pages.render(request, template, status=status, headers={**(headers or {}), "Set-Cookie": cookie},
                        csrf=token, user=None, **values)


def anonymous_fields(request):
    """The fields of a form posted by someone not signed in, its double-submit CSRF token checked."""
    return form_of(request, cookies.read(request, sessions.PRE_COOKIE))[0]
