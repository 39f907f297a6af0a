"""common.throttle: free attempts, then lockouts doubling up to the cap; keys that store no name. (Gate's
counting under parallel guesses is tested on each product's real table: tests/*/test_*_sign_in_race.py,
tests/broadcast/test_broadcast_login_throttle.py, tests/mail_import/test_mail_import_attempts.py.)"""
from datetime import datetime, timedelta

from common import throttle


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
