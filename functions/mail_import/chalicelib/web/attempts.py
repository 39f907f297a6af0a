"""Anonymous requests that make the platform log in to a mailbox with a password the caller chose (a new
account, a new password for one) are counted per client address before they are acted on (common.throttle),
so the service cannot be used as an open login tester for the preset providers' mailboxes. Every such
request counts, whatever the IMAP server later answers: the answer comes long after the request."""
from datetime import datetime, timezone

from common import db, throttle

from .. import queries

# 10 mailboxes (or new passwords) from one address, then a lockout from 1 minute doubling up to an hour.
PER_ADDRESS = throttle.Policy(free=10, base=60, cap=3600, forget_after=3600)
GATE = throttle.Gate(throttle.Statements(lock=(queries.ATTEMPT_LOCK,), save=queries.ATTEMPT_SAVE,
                                         forget=queries.ATTEMPT_FORGET, purge=queries.ATTEMPT_PURGE),
                     db.pg_transaction, lambda: datetime.now(timezone.utc), purge_after=PER_ADDRESS.forget_after)


def client_address(request):
    """The caller's address as API Gateway saw it (never a header the caller could forge)."""
    return str(((request.context or {}).get("identity") or {}).get("sourceIp") or "unknown")


def reserve(request):
    """Count one password-proving request from the caller's address; throttle.Refused (429 + Retry-After)
    once the address has made too many."""
    GATE.reserve([throttle.Limit(throttle.key("address", client_address(request)), PER_ADDRESS, throttle.KEEP)])
