"""Basic-auth sign-ins counted per client address in MySQL (shared by every instance of the site) through
common.throttle's Gate: each request that carries credentials reserves an attempt before they are compared,
so parallel guesses cannot outrun the count; a correct sign-in forgets the client's record. The site has one
user, so the address is the whole key: a guesser elsewhere never locks out the owner's address."""
from common import db, throttle

from . import clock, queries

POLICY = throttle.Policy()
MAX_CLIENT_CHARS = 45        # an IPv6 address in text
STATEMENTS = throttle.Statements(lock=(queries.LOCK_LOGIN, queries.LOCKED_LOGIN), save=queries.SAVE_LOGIN,
                                 forget=queries.FORGET_LOGIN_FAILURES, purge=queries.PURGE_LOGIN_FAILURES)
# The clock is looked up at each call, so tests can move time (clock.utcnow, monkeypatched).
GATE = throttle.Gate(STATEMENTS, db.mysql_transaction, lambda: clock.utcnow())


def client_of(context):
    """The caller's address as API Gateway saw it (requestContext.identity.sourceIp; never a header the
    caller could forge)."""
    identity = (context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")[:MAX_CLIENT_CHARS]


def reserve(client, now=None):
    """Count a sign-in attempt before the credentials are compared: a Reservation (call .succeeded() when
    they were right), or throttle.Refused(seconds) while the client is locked out (nothing counted)."""
    return GATE.reserve([throttle.Limit(client, POLICY, throttle.FORGET)], now)


def purge(now=None, policy=POLICY):
    """Drop records that no longer count (the maintenance schedule); returns how many."""
    return GATE.purge(policy.forget_after, now)
