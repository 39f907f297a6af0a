"""Shaping handler results and failures into JSON responses; clients never see a traceback."""
import functools
import json

import psycopg2
from chalice import Response

from common.http import json_error
from common.log import get_logger

from .errors import ApiError

log = get_logger("mailbox")
JSON = {"Content-Type": "application/json"}


def ok(value, status=200, headers=None):
    """A JSON response."""
    return Response(body=json.dumps(value), status_code=status, headers={**JSON, **(headers or {})})


def no_content():
    """204 with no body."""
    return Response(body="", status_code=204, headers={})


def handled(view):
    """Turn ApiError into its 4xx, a lost database into 503 and anything else into a bare JSON 500."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except ApiError as exc:
            response = json_error(exc.status, exc.message, **exc.extra)
            response.headers.update(exc.headers)
            return response
        except (psycopg2.OperationalError, psycopg2.InterfaceError):
            log.exception("database unavailable")
            return _unavailable()
        except Exception:
            log.exception("unhandled error")
            return json_error(500, "internal error")
    return wrapper


def _unavailable():
    response = json_error(503, "database unavailable, retry later")
    response.headers["Retry-After"] = "1"
    return response


def reshape_framework_error(response):
    """Give Chalice's own errors (405, 415, ...), shaped {"Code", "Message"}, our {"error"} shape."""
    if response.status_code < 400 or not isinstance(response.body, dict) or "Message" not in response.body:
        return response
    headers = {key: value for key, value in response.headers.items() if key.lower() != "content-type"}
    reshaped = json_error(response.status_code, str(response.body["Message"]))
    reshaped.headers.update(headers)
    return reshaped
