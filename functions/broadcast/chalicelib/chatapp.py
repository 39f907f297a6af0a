"""HTTP client of the ChatApp API: every call returns `data` or raises a classified ChatAppError."""
import threading

import requests

MESSENGER = "grWhatsApp"
TIMEOUT = (5, 20)      # connect, read (seconds); the sender function has 30 s in all

_local = threading.local()


class ChatAppError(Exception):
    """An API call failed. retryable: worth trying again later (429, 5xx, network)."""

    def __init__(self, code, message, status=None, retryable=False):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status, self.retryable = code, message, status, retryable


class InvalidToken(ChatAppError):
    """The token sent was rejected (ApiInvalidTokenError or HTTP 401)."""


def obtain_tokens(base_url, email, password, app_id):
    """POST /v1/tokens -> {accessToken, accessTokenEndTime, refreshToken, refreshTokenEndTime, ...}."""
    return _call("POST", base_url, "/v1/tokens", json={"email": email, "password": password, "appId": app_id})


def refresh_tokens(base_url, refresh_token):
    """POST /v1/tokens/refresh with the Refresh header -> a new token pair."""
    return _call("POST", base_url, "/v1/tokens/refresh", headers={"Refresh": refresh_token})


def set_callback(base_url, token, license_id, url, events=("messageStatus",)):
    """PUT the callback URL that receives the given events for the license's WhatsApp."""
    path = f"/v1/licenses/{license_id}/messengers/{MESSENGER}/callbackUrl"
    return _call("PUT", base_url, path, token=token, json={"events": list(events), "url": url})


def send_text(base_url, token, license_id, phone, text):
    """POST a WhatsApp text to phone (E.164 digits) -> {"id": message id, "chatId": ...}."""
    path = f"/v1/licenses/{license_id}/messengers/{MESSENGER}/chats/{phone}/messages/text"
    return _call("POST", base_url, path, token=token, json={"text": text})


def _session():
    # One keep-alive session per thread: requests.Session is not documented as thread-safe.
    if getattr(_local, "session", None) is None:
        _local.session = requests.Session()
    return _local.session


def _call(method, base_url, path, token=None, headers=None, json=None):
    all_headers = dict(headers or {})
    if token is not None:
        all_headers["Authorization"] = token
    try:
        resp = _session().request(method, base_url + path, headers=all_headers, json=json, timeout=TIMEOUT)
    except requests.Timeout as exc:
        raise ChatAppError("NetworkTimeout", f"ChatApp did not answer in time ({exc.__class__.__name__})",
                           retryable=True) from None
    except requests.RequestException as exc:
        raise ChatAppError("NetworkError", f"cannot reach ChatApp ({exc.__class__.__name__})",
                           retryable=True) from None
    return _answer(resp)


def _answer(resp):
    """The data of a successful answer; a ChatAppError built from any other."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    if resp.ok and isinstance(body, dict) and body.get("success") is True:
        return body.get("data")
    error = body.get("error") if isinstance(body, dict) else None
    code = str(error.get("code") or "") if isinstance(error, dict) else ""
    message = str(error.get("message") or "") if isinstance(error, dict) else ""
    code = code or f"HTTP{resp.status_code}"
    message = message or (resp.text[:200].strip() if body is None else "") or resp.reason or "no details"
    if resp.status_code == 401 or code == "ApiInvalidTokenError":
        raise InvalidToken(code, message, resp.status_code)
    retryable = resp.status_code == 429 or resp.status_code >= 500
    raise ChatAppError(code, message, resp.status_code, retryable)
