"""The ChatApp client: one object holding its settings and the token pair (kept in MySQL by tokens.py).

Every API call returns ChatApp's `data` or raises a classified ChatAppError. Tokens are reused, refreshed
shortly before they end and obtained anew only when the refresh token is dead; renewals hold the token
row's lock, so concurrent senders renew once. The status callback is registered with new tokens and
whenever its URL changed.
"""
import hashlib
import threading
import time

import requests

from common import db
from common.log import get_logger

from . import tokens
from .clock import from_unix

log = get_logger(__name__)
MESSENGER = "grWhatsApp"
TIMEOUT = (5, 20)           # connect, read (seconds); the sender function has 30 s in all
REFRESH_SAFETY = 30         # a refresh token this close to its end is treated as dead
SCHEDULED_AHEAD = 2 * 3600  # the hourly schedule renews tokens with less than this left
TOKEN_KEYS = ("accessToken", "accessTokenEndTime", "refreshToken", "refreshTokenEndTime")


class ChatAppError(Exception):
    """An API call failed. retryable: worth trying again later (429, 5xx, network)."""

    def __init__(self, code, message, status=None, retryable=False):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status, self.retryable = code, message, status, retryable


class InvalidToken(ChatAppError):
    """The token sent was rejected (ApiInvalidTokenError or HTTP 401)."""


class Held:
    """The access token the sends of one batch share (None: read it from the token row)."""

    def __init__(self):
        self.token = None


class ChatApp:
    """ChatApp for one licence: settings (settings.ChatAppSettings) and the stored tokens."""

    def __init__(self, settings):
        self.settings = settings
        self._local = threading.local()

    # ---- sending ------------------------------------------------------------------------------------

    def send_text(self, phone, text, held=None):
        """Send a WhatsApp text to phone (E.164 digits) -> {"id": message id, ...}. A rejected token is renewed
        once and the send repeated; not getting a token at all is retryable (nothing was sent).
        held: a Held shared by the sends of one batch, so the token row is read once per batch, not per send
        (a renewal by any send of the batch is kept there for the next ones)."""
        token = held.token if held is not None else None
        if token is None:
            try:
                token = self.access_token()
            except ChatAppError as exc:
                raise ChatAppError(exc.code, f"cannot obtain ChatApp tokens: {exc.message}", exc.status,
                                   retryable=True) from None
        path = f"/v1/licenses/{self.settings.license_id}/messengers/{MESSENGER}/chats/{phone}/messages/text"
        try:
            return self._call("POST", path, token=token, json={"text": text})
        except InvalidToken:
            log.info("access token rejected; renewing it")
            token = self.renew(stale=token)
        finally:
            if held is not None:
                held.token = token
        try:
            return self._call("POST", path, token=token, json={"text": text})
        except InvalidToken as exc:
            if held is not None:
                held.token = None       # the next send of the batch reads (and renews) the row again
            raise ChatAppError(exc.code, exc.message, exc.status, retryable=True) from None

    # ---- tokens -------------------------------------------------------------------------------------

    def access_token(self, now=None):
        """A usable access token (renewed if it ends soon); also makes sure the callback URL is registered."""
        now = time.time() if now is None else now
        row = tokens.read()
        if row and row["access_token"] and tokens.valid_for(row, now) > tokens.margin(row):
            token = row["access_token"]
        else:
            token = self.renew(stale=row["access_token"] if row else None, now=now)
            row = tokens.read()
        if self._can_register() and row["callback_digest"] != self.callback_digest():
            token = self._register_with(token, now)
        return token

    def renew(self, stale=None, now=None, min_valid=None):
        """Refresh the pair (or obtain a new one) unless another caller already replaced the `stale` token."""
        now = time.time() if now is None else now
        with db.mysql_transaction() as cur:
            row = tokens.lock(cur)
            needed = tokens.margin(row) if min_valid is None else min_valid
            if row["access_token"] and row["access_token"] != stale and tokens.valid_for(row, now) > needed:
                return row["access_token"]
            data = self._refreshed(row, now)
            obtained = data is None
            if obtained:
                data = _checked(self._call("POST", "/v1/tokens", json={
                    "email": self.settings.email, "password": self.settings.password,
                    "appId": self.settings.app_id}))
            tokens.store(cur, data, obtained, now)
        log.info("ChatApp tokens obtained" if obtained else "ChatApp tokens refreshed",
                 access_valid_until=from_unix(data["accessTokenEndTime"]).isoformat())
        if obtained:
            self.register_callback(data["accessToken"], quiet=True)
        return data["accessToken"]

    def keep_fresh(self, now=None, ahead=SCHEDULED_AHEAD):
        """For the schedule: renew when less than `ahead` seconds are left, so senders rarely have to."""
        now = time.time() if now is None else now
        row = tokens.read()
        if row and row["access_token"] and tokens.valid_for(row, now) > ahead:
            return False
        self.renew(stale=row["access_token"] if row else None, now=now, min_valid=ahead)
        return True

    def _refreshed(self, row, now):
        """A refreshed pair, or None when the refresh token is missing, ending or rejected."""
        if not row["refresh_token"] or (row["refresh_expires_at"] or 0) - now <= REFRESH_SAFETY:
            return None
        try:
            data = self._call("POST", "/v1/tokens/refresh", headers={"Refresh": row["refresh_token"]})
        except ChatAppError as exc:
            if exc.retryable:
                raise
            log.info("refresh token rejected; obtaining new tokens", error=str(exc))
            return None
        if isinstance(data, dict) and not data.get("refreshToken"):
            # Should a refresh answer carry only a new access token, the refresh token stays as it was.
            data = dict(data, refreshToken=row["refresh_token"], refreshTokenEndTime=row["refresh_expires_at"])
        return _checked(data)

    # ---- the status callback ------------------------------------------------------------------------

    def callback_digest(self):
        """SHA-256 of the callback URL, so the stored row shows which URL is registered without the secret."""
        return hashlib.sha256(self.settings.callback_url.encode("utf-8")).hexdigest()

    def register_callback(self, token, quiet=False):
        """PUT our webhook URL for messageStatus events; remembers which URL is registered. quiet: log, don't
        raise."""
        if not self._can_register():
            log.warning("not registering the ChatApp callback: BROADCAST_PUBLIC_URL or the webhook secret is unset")
            return False
        path = f"/v1/licenses/{self.settings.license_id}/messengers/{MESSENGER}/callbackUrl"
        try:
            self._call("PUT", path, token=token,
                       json={"events": ["messageStatus"], "url": self.settings.callback_url})
        except ChatAppError as exc:
            if not quiet:
                raise
            log.warning("registering the ChatApp callback failed", error=str(exc))
            return False
        tokens.store_callback(self.callback_digest(), time.time())
        return True

    def _can_register(self):
        return bool(self.settings.public_url and self.settings.webhook_secret)

    def _register_with(self, token, now):
        """Register the callback; a rejected token is renewed (which registers it too). Returns the token in use."""
        try:
            self.register_callback(token)
        except InvalidToken:
            token = self.renew(stale=token, now=now)
            if tokens.read()["callback_digest"] != self.callback_digest():
                self.register_callback(token, quiet=True)
        except ChatAppError as exc:
            log.warning("registering the ChatApp callback failed", error=str(exc))
        return token

    # ---- HTTP ---------------------------------------------------------------------------------------

    def _session(self):
        # One keep-alive session per thread: requests.Session is not documented as thread-safe.
        if getattr(self._local, "session", None) is None:
            self._local.session = requests.Session()
        return self._local.session

    def _call(self, method, path, token=None, headers=None, json=None):
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = token
        try:
            resp = self._session().request(method, self.settings.base_url + path, headers=all_headers, json=json,
                                           timeout=TIMEOUT)
        except requests.Timeout as exc:
            raise ChatAppError("NetworkTimeout", f"ChatApp did not answer in time ({exc.__class__.__name__})",
                               retryable=True) from None
        except requests.RequestException as exc:
            raise ChatAppError("NetworkError", f"cannot reach ChatApp ({exc.__class__.__name__})",
                               retryable=True) from None
        return _answer(resp)


def _checked(data):
    """The token data if it has everything we store; a retryable error otherwise (nothing is stored)."""
    if not isinstance(data, dict) or not all(data.get(k) for k in TOKEN_KEYS):
        raise ChatAppError("UnexpectedResponse", "ChatApp's token answer lacks tokens or end times", retryable=True)
    return data


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
