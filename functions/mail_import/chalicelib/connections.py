"""The open WebSocket connections of account pages: the one module that writes, reads and forgets them."""
from common.db import pg_transaction

from . import queries

# API Gateway answers a push with GoneException while the connection's $connect is still running (the row is written
# by $connect, so a push can find it first); such a connection opens a moment later and subscribes.
GONE_GRACE_SECONDS = 30


def add(connection_id, account_id):
    """Remember a connection accepted for an account."""
    with pg_transaction() as cur:
        cur.execute(queries.ADD_CONNECTION, (connection_id, account_id))


def account_of(connection_id):
    """The account a connection belongs to, or None."""
    with pg_transaction() as cur:
        cur.execute(queries.CONNECTION_ACCOUNT, (connection_id,))
        row = cur.fetchone()
    return row[0] if row else None


def of_account(account_id):
    """Connection ids of the account's open pages."""
    with pg_transaction() as cur:
        cur.execute(queries.CONNECTIONS, (account_id,))
        return [r[0] for r in cur.fetchall()]


def forget(connection_id):
    """Drop a connection that closed or that API Gateway says is gone."""
    with pg_transaction() as cur:
        cur.execute(queries.DELETE_CONNECTION, (connection_id,))


def forget_gone(connection_id):
    """Drop a connection a push found gone, unless it was accepted less than GONE_GRACE_SECONDS ago (then it is
    still opening: forgotten now, its page's subscribe would find no account). A page that never opened is
    dropped by a later push, or by $disconnect."""
    with pg_transaction() as cur:
        cur.execute(queries.FORGET_GONE_CONNECTION, (connection_id, GONE_GRACE_SECONDS))
