"""The admin page's sign-in with the organisation's identity provider (chalicelib/oidc.py). Both routes are
public (they are how an operator gets a session); without a configured issuer they answer 404 and the sign-in
page offers the password form only. Signing out is the admin page's own (POST /admin/logout)."""
from datetime import datetime, timezone

from chalice import Blueprint

from common import cookies, i18n, web

from . import oidc
from .admin import pages
from .api import auth

routes = Blueprint(__name__)
# The sign-in page shows the provider's button when one is configured ({% if oidc_enabled() %}).
pages.PAGES.globals["oidc_enabled"] = lambda: oidc.load().enabled


def _settings():
    settings = oidc.load()
    if not settings.enabled:
        raise web.not_found("sign-in with an identity provider is not configured")
    return settings


def _callback_url(request):
    """Where the provider sends the browser back: this API's own address (the provider only accepts the
    redirect URIs registered for the client)."""
    scheme = "https" if cookies.is_https(request) else "http"
    return f"{scheme}://{request.headers.get('host', '')}{web.base_path(request)}/admin/oidc/callback"


@routes.route("/admin/oidc/login", methods=["GET"])
def oidc_login():
    request = routes.current_request
    url, flow = oidc.start(_settings(), _callback_url(request))
    return web.redirect(url, status=302, headers=dict(web.NO_STORE, **{
        # Lax: the provider's redirect back is a top-level navigation from another site.
        "Set-Cookie": cookies.set_cookie(request, oidc.FLOW_COOKIE, flow, max_age=oidc.FLOW_SECONDS)}))


@routes.route("/admin/oidc/callback", methods=["GET"])
def oidc_callback():
    request = routes.current_request
    now = datetime.now(timezone.utc)
    token, expires, _operator = oidc.finish(_settings(), cookies.read(request, oidc.FLOW_COOKIE),
                                            request.query_params or {}, now)
    session = cookies.set_cookie(request, auth.COOKIE, token, max_age=(expires - now).total_seconds(),
                                 same_site="Strict")
    # A page that moves on to /admin rather than a redirect: after the provider's cross-site redirect, the
    # browser would not send the new SameSite=Strict cookie with a redirected request.
    base = web.base_path(request)
    text = pages.render("oidc_signed_in.html", i18n.request_language(request), base=base, signed_in=False,
                        next_url=f"{base}/admin")
    return web.html_response(text, headers=dict(web.NO_STORE, **{
        "Refresh": f"0; url={base}/admin", "Set-Cookie": [session, cookies.clear(request, oidc.FLOW_COOKIE)]}))
