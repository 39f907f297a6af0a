"""Failed basic-auth sign-ins counted per client address in MySQL (shared by every instance of the site);
common.throttle.Policy turns the count into a lockout. Only the database side and the decision."""
from datetime import timedelta

from common import db, throttle

from . import queries
from .clock import utcnow

POLICY = throttle.Policy()
MAX_CLIENT_CHARS = 45        # an IPv6 address in text


def client_of(context):
    """The caller's address as API Gateway saw it (requestContext.identity.sourceIp; never a header the
    caller could forge)."""
    identity = (context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")[:MAX_CLIENT_CHARS]


def check(client, now=None):
    """(seconds the client must still wait, whether it has failures on record)."""
    now = now or utcnow()
    with db.mysql_transaction() as cur:
        cur.execute(queries.LOGIN_FAILURES, (client,))
        row = cur.fetchone()
    if row is None:
        return 0, False
    return throttle.retry_after(row["locked_until"], now), True


def failed(client, now=None, policy=POLICY):
    """Count a failed sign-in; returns the seconds the client is now locked out (0: not yet)."""
    now = now or utcnow()
    with db.mysql_transaction() as cur:
        cur.execute(queries.COUNT_LOGIN_FAILURE, {"client": client, "now": now,
                                                  "forget_before": now - timedelta(seconds=policy.forget_after)})
        cur.execute(queries.LOGIN_FAILURES, (client,))
        failures = cur.fetchone()["failures"]
        seconds = policy.lockout(failures)
        cur.execute(queries.LOCK_LOGIN, (now + timedelta(seconds=seconds) if seconds else None, client))
    return seconds


def succeeded(client):
    """A correct sign-in forgets the client's failures."""
    with db.mysql_transaction() as cur:
        cur.execute(queries.FORGET_LOGIN_FAILURES, (client,))


def purge(now=None, policy=POLICY):
    """Drop records that no longer count (the maintenance schedule); returns how many."""
    now = now or utcnow()
    with db.mysql_transaction() as cur:
        return cur.execute(queries.PURGE_LOGIN_FAILURES, (now - timedelta(seconds=policy.forget_after), now))
