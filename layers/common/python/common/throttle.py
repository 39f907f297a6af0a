"""Sign-in throttling shared by every product: attempts are reserved before the password is checked.

Why a reservation: reading a failure count, running argon2 (~0.1 s) and writing the failure afterwards lets
20 parallel guesses all read "0 failures" and all reach the password check. Here an attempt is counted
first, under a row lock held only for that short transaction, and only then may the password be checked;
a correct password gives the reservation back (`Reservation.succeeded`). So however many requests run at
once, at most `Policy.free` of them reach the check before the first lockout.

What is counted, per product (`Limit`s, each a row keyed by a string):
- (account, client address) with a strict policy, forgotten on success: stops one address guessing one
  account's password, and nobody else is affected;
- the client address alone with a wider policy, its reservation released on success: stops one address
  spraying many accounts (or one account under many names);
- never the account alone: a stranger who knows an e-mail or operator name must not be able to lock its
  owner out, and the owner signing in from another address is subject to neither of the rows above.
Anonymous actions that prove a password elsewhere (mail_import's account creation, which makes the
platform log in to an IMAP server) count every attempt per address (`KEEP`).

Where the rows live is the product's (a table all its instances share: broadcast's login_failures in
MySQL, `<schema>.sign_in_attempts` in PostgreSQL). The product passes its own SQL (`Statements`, written in
its queries.py) and its transaction (common.db.pg_transaction / mysql_transaction), so this module holds no
SQL and works on either database. Times come from the caller's clock, so tests can move time.
"""
import hashlib
import json
import math
from dataclasses import dataclass
from datetime import timedelta

from . import db
from .i18n import N_
from .log import get_logger
from .web import AppError

log = get_logger("throttle")

FORGET = "forget"      # success deletes the row (the failures were the owner's typos)
RELEASE = "release"    # success gives this attempt back (the count of other failures stays)
KEEP = "keep"          # every attempt counts, success or not


@dataclass(frozen=True)
class Policy:
    """How long a key is locked after its n-th counted attempt: `free` attempts, then a lockout that doubles
    with every further one up to `cap`. Attempts older than `forget_after` seconds start the count again."""
    free: int = 10              # attempts that reach the password check before the first lockout
    base: float = 1.0           # seconds of the first lockout, doubled by every further attempt
    cap: int = 900              # the longest lockout (15 minutes)
    forget_after: int = 3600    # a counted attempt older than this no longer counts

    def lockout(self, attempts):
        """Seconds the key is locked after its n-th counted attempt (0 while it has free attempts left)."""
        if attempts < self.free:
            return 0
        exponent = min(attempts - self.free, 32)   # bounded: 2**32 already exceeds any cap
        return int(min(self.cap, math.ceil(self.base * 2 ** exponent)))


def retry_after(locked_until, now):
    """Whole seconds until a lock ends (at least 1 while it lasts, 0 once it is over)."""
    remaining = (locked_until - now).total_seconds() if locked_until else 0
    return max(1, math.ceil(remaining)) if remaining > 0 else 0


def key(kind, *parts):
    """A row key that stores no e-mail or name and has a bounded length whatever the caller sent."""
    # JSON keeps the parts apart whatever they contain (a NUL, a lone surrogate): ("a", "b") is not ("a\0b",).
    digest = hashlib.sha256(json.dumps([str(part) for part in parts]).encode("ascii"))
    return f"{kind}:{digest.hexdigest()[:40]}"


@dataclass(frozen=True)
class Limit:
    key: str
    policy: Policy
    on_success: str = FORGET


@dataclass(frozen=True)
class Statements:
    """The product's SQL for its attempts table; every statement takes named parameters.

    lock: run in order with {key, now}; together they create the row if missing (0 attempts) and lock it
      until the transaction ends; the last one returns (attempts, last_attempt_at, locked_until).
      PostgreSQL: one INSERT ... ON CONFLICT (key) DO UPDATE ... RETURNING; MySQL: INSERT ... ON DUPLICATE
      KEY UPDATE, then SELECT ... FOR UPDATE.
    save: {key, attempts, last_attempt_at, locked_until}. forget: {key}.
    purge: {forget_before, now}; rows neither recent nor locked out (with purge_after: a bounded number of
      them, skipping rows locked by a reservation: FOR UPDATE SKIP LOCKED).
    """
    lock: tuple
    save: str
    forget: str
    purge: str


TOO_MANY = N_("Too many attempts. Try again in %(seconds)s s, after %(time)s UTC.")


class Refused(AppError):
    """429 + Retry-After: too many attempts, come back in `seconds` (the page or JSON says when)."""

    def __init__(self, seconds, now):
        until = (now + timedelta(seconds=seconds)).strftime("%H:%M:%S")
        super().__init__(429, TOO_MANY, params={"seconds": seconds, "time": until},
                         headers={"Retry-After": str(seconds), "Cache-Control": "no-store"})
        self.seconds = seconds


class Gate:
    """Reserves attempts in one product's table. transaction: a context manager giving a cursor (commit on
    exit); clock: the current time, of the kind the table's columns take (aware for timestamptz, naive UTC
    for MySQL DATETIME)."""

    def __init__(self, statements, transaction, clock, purge_after=None):
        self.statements, self.transaction, self.clock = statements, transaction, clock
        # Set for products without a maintenance schedule: every reservation then drops a few rows older
        # than this (the purge statement must skip locked rows, so it never waits for a sign-in).
        self.purge_after = purge_after

    def _lock(self, cur, limit, now):
        for statement in self.statements.lock:
            cur.execute(statement, {"key": limit.key, "now": now})
        row = cur.fetchone()
        return tuple(row.values()) if isinstance(row, dict) else row

    @staticmethod
    def _counted(limit, row, now):
        """(attempts that still count, locked_until) of a locked row."""
        attempts, last, locked_until = row
        if last is None or last <= now - timedelta(seconds=limit.policy.forget_after):
            attempts = 0
        return attempts, locked_until

    def _locked_row(self, cur, limit, now):
        return self._counted(limit, self._lock(cur, limit, now), now)

    def run(self, work, **retry):
        """work(cur) in one transaction, run again if the server rolled it back for a lock conflict
        (common.db.in_transaction): a sign-in must not become a 503 for a deadlock among parallel ones, and a
        rolled-back try counted nothing, so the next one counts once."""
        return db.in_transaction(self.transaction, work, **retry)

    def reserve(self, limits, now=None):
        """Count one attempt on every limit, or raise Refused(seconds) if any of them is locked (then
        nothing is counted). Call before checking the password; the rows are locked in key order, so two
        requests never wait for each other crosswise."""
        given = now
        limits = sorted({limit.key: limit for limit in limits}.values(), key=lambda limit: limit.key)

        def count(cur):
            locked = [self._lock(cur, limit, given or self.clock()) for limit in limits]
            # The time once the locks are held: a request that waited behind others decides on the present.
            now = given or self.clock()
            rows = [self._counted(limit, row, now) for limit, row in zip(limits, locked)]
            wait = max([retry_after(locked_until, now) for _, locked_until in rows] + [0])
            if not wait:
                for limit, (attempts, _) in zip(limits, rows):
                    seconds = limit.policy.lockout(attempts + 1)
                    cur.execute(self.statements.save, {
                        "key": limit.key, "attempts": attempts + 1, "last_attempt_at": now,
                        "locked_until": now + timedelta(seconds=seconds) if seconds else None})
            return wait, now
        wait, now = self.run(count)
        if wait:
            # The kinds only: keys are digests, and the address is in the request's own log line.
            log.warning("attempt refused", seconds=wait, limits=[limit.key.split(":")[0] for limit in limits])
            raise Refused(wait, now)
        if self.purge_after:
            self.purge(self.purge_after, now)
        return Reservation(self, limits)

    def purge(self, forget_after, now=None):
        """Drop rows that no longer count (a maintenance schedule); returns how many."""
        now = now or self.clock()
        with self.transaction() as cur:
            cur.execute(self.statements.purge, {"forget_before": now - timedelta(seconds=forget_after), "now": now})
            return cur.rowcount


class Reservation:
    """Attempts counted by Gate.reserve; `succeeded()` after a correct password."""

    def __init__(self, gate, limits):
        self.gate, self.limits = gate, limits

    def succeeded(self, now=None):
        gate = self.gate
        now = now or gate.clock()

        def settle(cur):
            for limit in self.limits:
                if limit.on_success == FORGET:
                    cur.execute(gate.statements.forget, {"key": limit.key})
                elif limit.on_success == RELEASE:
                    attempts, locked_until = gate._locked_row(cur, limit, now)
                    attempts = max(attempts - 1, 0)
                    cur.execute(gate.statements.save, {
                        "key": limit.key, "attempts": attempts, "last_attempt_at": now,
                        "locked_until": locked_until if limit.policy.lockout(attempts) else None})
        gate.run(settle)
