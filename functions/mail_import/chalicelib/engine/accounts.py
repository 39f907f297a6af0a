"""Accounts: create one (password encrypted, access token hashed), check a token, load the IMAP login."""
from common import passwords, secretbox
from common.db import pg_transaction

from .. import queries
from .imap_session import Server


def create(account):
    """Store a validated AccountInput; returns (account id, access token shown once)."""
    token = passwords.new_api_key()
    with pg_transaction() as cur:
        cur.execute(queries.CREATE_ACCOUNT, {
            "provider": account.provider, "host": account.host, "port": account.port, "use_ssl": account.use_ssl,
            "login": account.login, "password_enc": secretbox.encrypt(account.password),
            "token_digest": passwords.api_key_digest(token), "folders": account.folders})
        account_id = cur.fetchone()[0]
    return account_id, token


def _row(cur):
    row = cur.fetchone()
    if row is None:
        return None
    names = [d[0] for d in cur.description]
    return dict(zip(names, row))


def get(account_id):
    """The account row (without secrets) or None."""
    with pg_transaction() as cur:
        cur.execute(queries.ACCOUNT, (account_id,))
        row = _row(cur)
    if row:
        row.pop("token_digest")
    return row


def authorized(account_id, token):
    """The account row if token is its access token, else None (same answer for a missing account)."""
    if not token or not isinstance(account_id, int):
        return None
    with pg_transaction() as cur:
        cur.execute(queries.ACCOUNT, (account_id,))
        row = _row(cur)
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
