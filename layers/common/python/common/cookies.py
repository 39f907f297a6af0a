"""Cookies, built and read one way by every product: HttpOnly, SameSite=Lax, Secure behind HTTPS."""
from http.cookies import CookieError, SimpleCookie


def jar(request_or_headers):
    """The request's cookies as a dict (a malformed Cookie header reads as no cookies)."""
    headers = getattr(request_or_headers, "headers", request_or_headers) or {}
    parsed = SimpleCookie()
    try:
        parsed.load(headers.get("cookie") or "")
    except CookieError:
        return {}
    return {key: morsel.value for key, morsel in parsed.items()}


def read(request_or_headers, name):
    """One cookie's value, or None."""
    return jar(request_or_headers).get(name)


def is_https(request_or_headers):
    """API Gateway (and proxies) say how the browser connected in X-Forwarded-Proto."""
    headers = getattr(request_or_headers, "headers", request_or_headers) or {}
    return (headers.get("x-forwarded-proto") or "").split(",")[0].strip().lower() == "https"


def set_cookie(request_or_headers, name, value, *, max_age=None, path="/", same_site="Lax"):
    """A Set-Cookie value: HttpOnly, SameSite (Lax unless told), Secure when the request came over HTTPS."""
    parts = [f"{name}={value}", f"Path={path}"]
    if max_age is not None:
        parts.append(f"Max-Age={int(max_age)}")
    parts += ["HttpOnly", f"SameSite={same_site}"]
    if is_https(request_or_headers):
        parts.append("Secure")
    return "; ".join(parts)


def clear(request_or_headers, name, *, path="/"):
    """A Set-Cookie value that deletes the cookie."""
    return set_cookie(request_or_headers, name, "", max_age=0, path=path)
