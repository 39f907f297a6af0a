"""ChatApp tokens kept in MySQL (one row): reused, refreshed shortly before expiry, obtained anew only
when the refresh token is dead. Renewals hold the row lock, so concurrent senders renew once."""
import hashlib
import time

from common import db
from common.log import get_logger

from . import chatapp, queries
from .clock import from_unix

log = get_logger(__name__)
MAX_MARGIN = 300            # renew at most 5 minutes before the access token ends...
MARGIN_SHARE = 0.1          # ...or in the last 10% of its life, if that is shorter (tests use short lives)
REFRESH_SAFETY = 30         # a refresh token this close to its end is treated as dead
SCHEDULED_AHEAD = 2 * 3600  # the hourly schedule renews tokens with less than this left


def access_token(settings, now=None):
    """A usable access token (renewed if it ends soon); also makes sure the callback URL is registered."""
    now = time.time() if now is None else now
    row = _read()
    if row and row["access_token"] and _valid_for(row, now) > _margin(row):
        token = row["access_token"]
    else:
        token = renew(settings, stale=row["access_token"] if row else None, now=now)
        row = _read()
    if settings.public_url and settings.webhook_secret and row["callback_digest"] != callback_digest(settings):
        token = _register_with(settings, token, now)
    return token


def renew(settings, stale=None, now=None, min_valid=None):
    """Refresh the pair (or obtain a new one) unless another caller already replaced the `stale` token."""
    now = time.time() if now is None else now
    obtained = False
    with db.mysql_transaction() as cur:
        row = _lock(cur)
        needed = _margin(row) if min_valid is None else min_valid
        if row["access_token"] and row["access_token"] != stale and _valid_for(row, now) > needed:
            return row["access_token"]
        data = _refresh(settings, row, now)
        if data is None:
            data = _checked(chatapp.obtain_tokens(settings.chatapp_base_url, settings.chatapp_email,
                                                  settings.chatapp_password, settings.chatapp_app_id))
            obtained = True
        params = (data["accessToken"], int(now), _unix(data["accessTokenEndTime"]), data["refreshToken"],
                  _unix(data["refreshTokenEndTime"]), from_unix(now))
        cur.execute(queries.STORE_OBTAINED if obtained else queries.STORE_REFRESHED, params)
    log.info("ChatApp tokens %s; access token valid until %s", "obtained" if obtained else "refreshed",
             from_unix(data["accessTokenEndTime"]).isoformat())
    if obtained:
        register_callback(settings, data["accessToken"], quiet=True)
    return data["accessToken"]


def keep_fresh(settings, now=None, ahead=SCHEDULED_AHEAD):
    """For the schedule: renew when less than `ahead` seconds are left, so senders rarely have to."""
    now = time.time() if now is None else now
    row = _read()
    if row and row["access_token"] and _valid_for(row, now) > ahead:
        return False
    renew(settings, stale=row["access_token"] if row else None, now=now, min_valid=ahead)
    return True


def register_callback(settings, token, quiet=False):
    """PUT our webhook URL for messageStatus events; remembers which URL is registered. quiet: log, don't raise."""
    if not settings.public_url or not settings.webhook_secret:
        log.warning("not registering the ChatApp callback: BROADCAST_PUBLIC_URL or the webhook secret is unset")
        return False
    try:
        chatapp.set_callback(settings.chatapp_base_url, token, settings.chatapp_license_id, settings.callback_url)
    except chatapp.ChatAppError as exc:
        if not quiet:
            raise
        log.warning("registering the ChatApp callback failed: %s", exc)
        return False
    with db.mysql_transaction() as cur:
        cur.execute(queries.STORE_CALLBACK, (callback_digest(settings), from_unix(time.time())))
    return True


def status(now=None):
    """What the pages show: when the tokens end and whether the callback is registered (never the tokens)."""
    now = time.time() if now is None else now
    row = _read() or {}
    return {
        "has_tokens": bool(row.get("access_token")),
        "access_ends": from_unix(row["access_expires_at"]) if row.get("access_expires_at") else None,
        "refresh_ends": from_unix(row["refresh_expires_at"]) if row.get("refresh_expires_at") else None,
        "access_valid": bool(row.get("access_token")) and (row.get("access_expires_at") or 0) > now,
        "callback_registered_at": row.get("callback_registered_at"),
    }


def callback_digest(settings):
    """SHA-256 of the callback URL, so the stored row shows which URL is registered without the secret."""
    return hashlib.sha256(settings.callback_url.encode("utf-8")).hexdigest()


def _register_with(settings, token, now):
    """Register the callback; a rejected token is renewed (which registers it too). Returns the token in use."""
    try:
        register_callback(settings, token)
    except chatapp.InvalidToken:
        token = renew(settings, stale=token, now=now)
        if _read()["callback_digest"] != callback_digest(settings):
            register_callback(settings, token, quiet=True)
    except chatapp.ChatAppError as exc:
        log.warning("registering the ChatApp callback failed: %s", exc)
    return token


def _refresh(settings, row, now):
    """A refreshed pair, or None when the refresh token is missing, ending or rejected."""
    if not row["refresh_token"] or (row["refresh_expires_at"] or 0) - now <= REFRESH_SAFETY:
        return None
    try:
        data = chatapp.refresh_tokens(settings.chatapp_base_url, row["refresh_token"])
    except chatapp.ChatAppError as exc:
        if exc.retryable:
            raise
        log.info("refresh token rejected (%s); obtaining new tokens", exc)
        return None
    if isinstance(data, dict) and not data.get("refreshToken"):
        # Should a refresh answer carry only a new access token, the refresh token stays as it was.
        data = dict(data, refreshToken=row["refresh_token"], refreshTokenEndTime=row["refresh_expires_at"])
    return _checked(data)


def _checked(data):
    """The token data if it has everything we store; a retryable error otherwise (nothing is stored)."""
    keys = ("accessToken", "accessTokenEndTime", "refreshToken", "refreshTokenEndTime")
    if not isinstance(data, dict) or not all(data.get(k) for k in keys):
        raise chatapp.ChatAppError("UnexpectedResponse", "ChatApp's token answer lacks tokens or end times",
                                   retryable=True)
    return data


def _unix(value):
    """Unix seconds from ChatApp's end times (seconds per its docs; milliseconds tolerated)."""
    value = int(float(value))
    return value // 1000 if value > 10 ** 11 else value


def _read():
    with db.mysql_transaction() as cur:
        cur.execute(queries.GET_TOKENS)
        return cur.fetchone()


def _lock(cur):
    cur.execute(queries.LOCK_TOKENS)
    row = cur.fetchone()
    if row is None:   # the migration inserts the row; recreate it if someone deleted it
        cur.execute(queries.ENSURE_TOKEN_ROW)
        cur.execute(queries.LOCK_TOKENS)
        row = cur.fetchone()
    return row


def _valid_for(row, now):
    return (row["access_expires_at"] or 0) - now


def _margin(row):
    issued, ends = row.get("access_issued_at"), row.get("access_expires_at")
    if not issued or not ends:
        return MAX_MARGIN
    return min(MAX_MARGIN, (ends - issued) * MARGIN_SHARE)
