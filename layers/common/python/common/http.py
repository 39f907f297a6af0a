"""Small helpers for shaping HTTP answers in Chalice apps."""
import json

from chalice import Response


def json_error(status, message, **extra):
    """A JSON error response {"error": message, ...} with the given status."""
    body = {"error": message}
    body.update(extra)
    return Response(body=json.dumps(body), status_code=status, headers={"Content-Type": "application/json"})


def html(body, status=200, headers=None):
    """An HTML response."""
    all_headers = {"Content-Type": "text/html; charset=utf-8"}
    all_headers.update(headers or {})
    return Response(body=body, status_code=status, headers=all_headers)


def redirect(location, status=303):
    """A redirect (303 after a POST, for post-redirect-get)."""
    return Response(body="", status_code=status, headers={"Location": location})
