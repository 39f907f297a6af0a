"""common.throttle: free mistakes, then lockouts doubling up to the cap."""
from datetime import datetime, timedelta

from common import throttle


def test_free_failures_then_doubling_lockouts_up_to_the_cap():
    policy = throttle.Policy(free=3, base=1, cap=60)
    assert [policy.lockout(n) for n in range(0, 12)] == [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60]
    assert policy.lockout(10 ** 9) == 60


def test_the_default_policy_lets_a_person_mistype_and_slows_a_guesser():
    policy = throttle.Policy()
    assert all(policy.lockout(n) == 0 for n in range(11))
    assert [policy.lockout(n) for n in (11, 12, 13)] == [1, 2, 4]
    assert sum(policy.lockout(n) for n in range(200)) > 150 * 900


def test_retry_after_is_whole_seconds_while_the_lock_lasts():
    now = datetime(2026, 1, 1, 12, 0, 0)
    assert throttle.retry_after(now + timedelta(seconds=2.2), now) == 3
    assert throttle.retry_after(now + timedelta(milliseconds=10), now) == 1
    assert throttle.retry_after(now, now) == 0 and throttle.retry_after(None, now) == 0
    assert throttle.retry_after(now - timedelta(seconds=5), now) == 0
