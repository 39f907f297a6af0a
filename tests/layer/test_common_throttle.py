"""common.throttle: free attempts, then lockouts doubling up to the cap; keys that store no name. (Gate's
counting under parallel guesses is tested on each product's real table: tests/*/test_*_sign_in_race.py,
tests/broadcast/test_broadcast_login_throttle.py, tests/mail_import/test_mail_import_attempts.py.)"""
from datetime import datetime, timedelta

import pytest

from common import db, throttle


def test_free_failures_then_doubling_lockouts_up_to_the_cap():
    policy = throttle.Policy(free=3, base=1, cap=60)
    # The n-th counted attempt reaches the password check; after the free-th, the key is locked.
    assert [policy.lockout(n) for n in range(0, 12)] == [0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert policy.lockout(10 ** 9) == 60


def test_the_default_policy_lets_a_person_mistype_and_slows_a_guesser():
    policy = throttle.Policy()
    assert all(policy.lockout(n) == 0 for n in range(10))
    assert [policy.lockout(n) for n in (10, 11, 12)] == [1, 2, 4]
    assert sum(policy.lockout(n) for n in range(200)) > 150 * 900


def test_retry_after_is_whole_seconds_while_the_lock_lasts():
    now = datetime(2026, 1, 1, 12, 0, 0)
    assert throttle.retry_after(now + timedelta(seconds=2.2), now) == 3
    assert throttle.retry_after(now + timedelta(milliseconds=10), now) == 1
    assert throttle.retry_after(now, now) == 0 and throttle.retry_after(None, now) == 0
    assert throttle.retry_after(now - timedelta(seconds=5), now) == 0


def test_keys_store_no_name_and_have_a_bounded_length():
    long_key = throttle.key("account+address", "someone@example.com" * 100, "2001:db8::1")
    assert long_key.startswith("account+address:") and "someone" not in long_key and len(long_key) == 56
    assert throttle.key("a", "x", "y") != throttle.key("a", "x\0y") != throttle.key("a", "xy")
    assert throttle.key("address", "\ud800") == throttle.key("address", "\ud800")    # a lone surrogate is fine


class _Conflict(Exception):
    pgcode = "40P01"      # psycopg2's deadlock_detected


def _gate_failing_with(errors):
    """A Gate whose transactions raise the given errors in turn, then give a cursor; and the list of its tries."""
    from contextlib import contextmanager
    tries = []

    @contextmanager
    def transaction():
        tries.append(1)
        if len(tries) <= len(errors):
            raise errors[len(tries) - 1]
        yield "cursor"
    return throttle.Gate(None, transaction, datetime.now), tries


def test_a_lock_conflict_runs_the_transaction_again_with_growing_jittered_pauses_and_other_errors_do_not():
    import pymysql
    pauses = []
    gate, tries = _gate_failing_with([pymysql.err.OperationalError(1213, "Deadlock found"), _Conflict()])
    assert gate.run(lambda cur: cur, pause=lambda low, high: pauses.append(high) or 0) == "cursor"
    assert len(tries) == 3 and pauses == [db.CONFLICT_PAUSE, 2 * db.CONFLICT_PAUSE]
    gate, tries = _gate_failing_with([pymysql.err.OperationalError(1213, "Deadlock found")] * 9)
    with pytest.raises(pymysql.err.OperationalError):
        gate.run(lambda cur: cur, pause=lambda low, high: 0)
    assert len(tries) == db.CONFLICT_ATTEMPTS                       # bounded
    for other in (pymysql.err.OperationalError(2013, "Lost connection to MySQL server during query"), ValueError()):
        gate, tries = _gate_failing_with([other])
        with pytest.raises(type(other)):
            gate.run(lambda cur: cur, pause=lambda low, high: 0)
        assert len(tries) == 1                                              # not a conflict: not run again
