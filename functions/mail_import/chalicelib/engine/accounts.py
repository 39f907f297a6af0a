"""Accounts: create one (password encrypted, access token hashed), check a token, load the IMAP login."""
from common import passwords, rows, secretbox, web
from common.db import pg_transaction

from .. import queries, settings
from . import imap_session
from .failures import HOST_NOT_FOUND, NOT_IMAP_PORT, ImportFailure
from .imap_session import Server


def check_destination(account):
    """A 400 naming the field when the account's server may not be used (an internal address, a non-IMAP
    port); the import checks again when it connects, since DNS answers can change."""
    try:
        imap_session.destination(account, settings.imap_allowed())
    except ImportFailure as exc:
        if exc.msgid == HOST_NOT_FOUND:
            return  # perhaps a passing DNS failure: the import says so if it persists
        raise web.AppError(400, exc.msgid, params=exc.params,
                           field="port" if exc.msgid == NOT_IMAP_PORT else "host") from None


def create(account):
    """Store a validated AccountInput; returns (account id, access token shown once)."""
    check_destination(account)
    token = passwords.new_api_key()
    with pg_transaction() as cur:
        cur.execute(queries.CREATE_ACCOUNT, {
            "provider": account.provider, "host": account.host, "port": account.port, "use_ssl": account.use_ssl,
            "login": account.login, "password_enc": secretbox.encrypt(account.password),
            "token_digest": passwords.api_key_digest(token), "folders": account.folders})
        account_id = cur.fetchone()[0]
    return account_id, token


def get(account_id):
    """The account row (without secrets) or None."""
    with pg_transaction() as cur:
        cur.execute(queries.ACCOUNT, (account_id,))
        row = rows.one(cur)
    if row:
        row.pop("token_digest")
    return row


def authorized(account_id, token):
    """The account row if token is its access token, else None (same answer for a missing account)."""
    if not token or not isinstance(account_id, int):
        return None
    with pg_transaction() as cur:
        cur.execute(queries.ACCOUNT, (account_id,))
        row = rows.one(cur)
    if row is None or not passwords.same(row.pop("token_digest"), passwords.api_key_digest(token)):
        return None
    return row


def server(account):
    """The IMAP Server (with the decrypted password) of an account row."""
    with pg_transaction() as cur:
        cur.execute(queries.ACCOUNT_SECRET, (account["id"],))
        (password_enc,) = cur.fetchone()
    return Server(account["host"], account["port"], account["use_ssl"], account["login"],
                  secretbox.decrypt(password_enc))


def set_sync_interval(account_id, minutes):
    """Automatic sync every `minutes` (None: off); the next one is one interval from now."""
    with pg_transaction() as cur:
        cur.execute(queries.SET_SYNC_INTERVAL, {"account": account_id, "minutes": minutes})


def set_password(account_id, password):
    """Store a new password; the account leaves 'auth_failed' so its syncs run again."""
    with pg_transaction() as cur:
        cur.execute(queries.SET_PASSWORD, {"account": account_id, "password_enc": secretbox.encrypt(password)})
