"""Who may call which route, declared once: app.py's middleware calls `admit` before every route.

- PUBLIC routes need nobody (signing in, the API's documentation).
- Everything else needs an operator: API routes by `Authorization: Bearer <token>` (POST /auth), the admin
  pages by the same token in the HttpOnly cookie (POST /admin/login). VISITORS routes also take a caller
  who is not signed in (the admin page then shows its sign-in form).
- Every form posted to /admin must come from the admin page itself (SameSite cookies, and Sec-Fetch-Site /
  Origin checked here).
Routes read the caller from `caller(request)`: {"id", "username"} of the operator, or None.
"""
from common.web import AppError

from .admin import messages
from .api import auth

PUBLIC = {("/", "GET"), ("/auth", "POST"), ("/openapi.json", "GET"), ("/docs", "GET"), ("/docs/{asset}", "GET"),
          ("/admin/login", "POST"), ("/admin/logout", "POST"),
          # the provider's sign-in: the callback proves who it is (oidc.py)
          ("/admin/oidc/login", "GET"), ("/admin/oidc/callback", "GET"),
          # Prometheus: guarded by its own token in metrics_routes, not by an operator's
          ("/metrics", "GET")}
VISITORS = {("/admin", "GET")}
ADMIN = "/admin"
# Routes under /admin that answer JSON (the mailing page polls them), not a page.
ADMIN_JSON = {"/admin/mailings/{id}/progress"}


def is_page(path):
    """Whether a route answers with a page (errors too) rather than JSON."""
    return (path == ADMIN or path.startswith(ADMIN + "/")) and path not in ADMIN_JSON


def admit(routes, request, now):
    """Put the caller on the request, or raise the AppError that refuses it (401, 403). Routes Chalice will
    refuse itself (unknown method) are left to it."""
    path = (request.context or {}).get("resourcePath") or ""
    if request.method not in routes.get(path, {}):
        return
    under_admin = path == ADMIN or path.startswith(ADMIN + "/")
    if under_admin:
        same_origin(request)
    request.context["operator"] = None
    if (path, request.method) in PUBLIC:
        return
    if not under_admin:
        request.context["operator"] = auth.require(request.headers, now)
        return
    found = auth.operator(auth.cookie_token(request), now)
    if found is None and (path, request.method) not in VISITORS:
        if not is_page(path):
            raise auth.unauthorized("sign in again")
        raise AppError(401, messages.SIGN_IN)
    request.context["operator"] = found


def caller(request):
    """The operator the access check found ({"id", "username"}), or None for a visitor."""
    return (request.context or {}).get("operator")


def same_origin(request):
    """Cookies are SameSite=Strict; a form posted from another site is refused as well. Browsers say where
    a request comes from in Sec-Fetch-Site; the pages' no-referrer policy makes their Origin "null", so
    Origin is only compared when it names a site."""
    if request.method != "POST":
        return
    fetch_site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    if fetch_site is not None:
        allowed = fetch_site in ("same-origin", "none")
    elif origin and origin != "null":
        allowed = origin.split("://", 1)[-1] == request.headers.get("host")
    else:
        allowed = True
    if not allowed:
        raise AppError(403, messages.FOREIGN_FORM)
