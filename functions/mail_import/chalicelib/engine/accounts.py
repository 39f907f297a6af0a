"""Accounts: add one (its login checked first, one account per mailbox; password encrypted, access token
hashed), check a token, load the IMAP login."""
from common import passwords, rows, secretbox, web
from common.db import pg_transaction

from .. import queries, settings
from . import failures, imap_session
from .failures import HOST_NOT_FOUND, NOT_IMAP_PORT, ImportFailure, is_auth_failure
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


def check_login(account):
    """Log in to the mailbox (the import's SSRF guard and deadlines) and out again; a 400 naming the field to fix
    when that fails: the password (with `provider`, for the page's advice) or the server."""
    _logged_in(account).close()


def folders(account):
    """The mailbox's folders for the form (imap_session.Session.folder_list), after the same checks as add()."""
    check_destination(account)
    with _logged_in(account) as session:
        try:
            return session.folder_list()
        except Exception as exc:  # noqa: BLE001 - a LIST the server refuses is the server's problem, named
            failure = failures.connect_failure(exc, account.host, account.port)
            if failure is None:
                raise
            raise web.AppError(400, failure.msgid, params=failure.params, field="host") from None


def _logged_in(account):
    try:
        return imap_session.connect(Server(account.host, account.port, account.use_ssl, account.login,
                                           account.password))
    except ImportFailure as exc:
        if is_auth_failure(exc):
            page = {"help": APP_PASSWORD_PAGES[account.provider]} if account.provider in APP_PASSWORD_PAGES else {}
            raise web.AppError(400, exc.msgid, params=exc.params, field="password", provider=account.provider,
                               **page) from None
        raise web.AppError(400, exc.msgid, params=exc.params,
                           field="port" if exc.msgid == NOT_IMAP_PORT else "host") from None


# Where each preset provider's users make the app password its IMAP server asks for.
APP_PASSWORD_PAGES = {
    "gmail.com": "https://myaccount.google.com/apppasswords",
    "yandex.ru": "https://id.yandex.ru/security/app-passwords",
    "mail.ru": "https://account.mail.ru/user/2-step-auth/passwords/",
}


def add(account):
    """A mailbox from the form or the API: (account id, access token, existing). Nothing is stored unless the
    login works. The same mailbox again (same host and login, case-insensitive) is the existing account, which
    gets a new token (the password was just proven) and keeps its data; its stored password becomes this one."""
    check_destination(account)
    check_login(account)
    token = passwords.new_api_key()
    with pg_transaction() as cur:
        cur.execute(queries.LOCK_MAILBOX, {"key": f"{account.host.lower()} {account.login.lower()}"})
        cur.execute(queries.SAME_MAILBOX, {"host": account.host, "login": account.login})
        found = cur.fetchone()
        if found is not None:
            cur.execute(queries.ADD_TOKEN, {"account": found[0], "digest": passwords.api_key_digest(token)})
            cur.execute(queries.SET_PASSWORD, {"account": found[0],
                                               "password_enc": secretbox.encrypt(account.password)})
            return found[0], token, True
        return _insert(cur, account, token), token, False


def create(account):
    """Store a validated AccountInput as it is (no login, no look for the same mailbox: add() does both);
    returns (account id, access token shown once)."""
    check_destination(account)
    token = passwords.new_api_key()
    with pg_transaction() as cur:
        return _insert(cur, account, token), token


def _insert(cur, account, token):
    cur.execute(queries.CREATE_ACCOUNT, {
        "provider": account.provider, "host": account.host, "port": account.port, "use_ssl": account.use_ssl,
        "login": account.login, "password_enc": secretbox.encrypt(account.password),
        "token_digest": passwords.api_key_digest(token), "folders": account.folders})
    return cur.fetchone()[0]


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
        cur.execute(queries.AUTHORIZED_ACCOUNT, {"account": account_id, "digest": passwords.api_key_digest(token)})
        return rows.one(cur)


def mine(tokens):
    """The accounts {account id: token} opens (a browser's cookies; others are left out, whatever they name):
    [{"id", "login", "host", "port", "status", "job_state", "messages", "bytes", "synced_at"}]."""
    ids = [account_id for account_id, token in tokens.items() if token]
    if not ids:
        return []
    with pg_transaction() as cur:
        cur.execute(queries.MY_ACCOUNTS, {"ids": ids, "digests": [passwords.api_key_digest(tokens[i]) for i in ids]})
        return rows.all(cur)


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
