"""Send windows in the client's local time: inside/outside, crossing midnight, DST gaps and repeats, expiry."""
from datetime import datetime, time, timedelta, timezone

import pytest

from functions.notifications.chalicelib.dispatch import windows

UTC = timezone.utc


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("local, start, end, expected", [
    (time(9, 0), time(9, 0), time(21, 0), True),
    (time(20, 59), time(9, 0), time(21, 0), True),
    (time(21, 0), time(9, 0), time(21, 0), False),
    (time(8, 59), time(9, 0), time(21, 0), False),
    (time(23, 30), time(22, 0), time(6, 0), True),       # crossing midnight
    (time(0, 0), time(22, 0), time(6, 0), True),
    (time(5, 59), time(22, 0), time(6, 0), True),
    (time(6, 0), time(22, 0), time(6, 0), False),
    (time(12, 0), time(22, 0), time(6, 0), False),
])
def test_is_open(local, start, end, expected):
    assert windows.is_open(local, start, end) is expected


def test_the_clients_zone_decides_not_utc():
    now = utc(2026, 1, 10, 5, 0)            # 08:00 in Moscow, 14:00 in Vladivostok (+10), 05:00 in London
    assert windows.next_opening("Asia/Vladivostok", time(9), time(21), now) is None
    assert windows.next_opening("Europe/Moscow", time(9), time(21), now) == utc(2026, 1, 10, 6, 0)
    assert windows.next_opening("Europe/London", time(9), time(21), now) == utc(2026, 1, 10, 9, 0)


def test_after_the_window_it_opens_next_day():
    now = utc(2026, 1, 10, 19, 0)           # 22:00 Moscow
    assert windows.next_opening("Europe/Moscow", time(9), time(21), now) == utc(2026, 1, 11, 6, 0)


def test_window_crossing_midnight_opens_in_the_evening():
    now = utc(2026, 1, 10, 12, 0)           # 15:00 Moscow
    assert windows.next_opening("Europe/Moscow", time(22), time(6), now) == utc(2026, 1, 10, 19, 0)
    assert windows.next_opening("Europe/Moscow", time(22), time(6), utc(2026, 1, 10, 23, 0)) is None  # 02:00


def test_dst_spring_forward_opening_in_the_skipped_hour_opens_at_the_jump():
    # New York, 2026-03-08: 02:00 EST jumps to 03:00 EDT; 02:30 does not exist that day.
    now = utc(2026, 3, 8, 5, 0)             # 00:00 EST
    assert windows.next_opening("America/New_York", time(2, 30), time(5), now) == utc(2026, 3, 8, 7, 0)
    # The day after, 02:30 EDT is 06:30 UTC: the same wall-clock time, an hour earlier in UTC.
    assert windows.next_opening("America/New_York", time(2, 30), time(5), utc(2026, 3, 8, 12)) == \
        utc(2026, 3, 9, 6, 30)


def test_dst_fall_back_opening_in_the_repeated_hour_is_the_first_one():
    # New York, 2026-11-01: 02:00 EDT goes back to 01:00 EST; 01:30 happens twice.
    now = utc(2026, 11, 1, 4, 0)            # 00:00 EDT
    assert windows.next_opening("America/New_York", time(1, 30), time(5), now) == utc(2026, 11, 1, 5, 30)


def test_dst_changes_the_utc_opening_of_the_same_wall_clock_window():
    before = windows.next_opening("Europe/Berlin", time(9), time(18), utc(2026, 3, 28, 20))   # CET, +1
    after = windows.next_opening("Europe/Berlin", time(9), time(18), utc(2026, 3, 29, 20))    # CEST, +2
    assert before == utc(2026, 3, 29, 7, 0) and after == utc(2026, 3, 30, 7, 0)
    # Inside at 09:30 local on both sides of the change, though UTC differs by an hour.
    assert windows.next_opening("Europe/Berlin", time(9), time(18), utc(2026, 3, 27, 8, 30)) is None
    assert windows.next_opening("Europe/Berlin", time(9), time(18), utc(2026, 3, 30, 7, 30)) is None


def test_delay_until_open_wait_or_closed_before_the_end():
    now = utc(2026, 1, 10, 19, 0)           # 22:00 Moscow, window 09-21 opens at 06:00 UTC tomorrow
    assert windows.delay_until("Europe/Moscow", time(9), time(21), now, now + timedelta(days=2)) == \
        ("wait", 11 * 3600)
    assert windows.delay_until("Europe/Moscow", time(9), time(21), now, utc(2026, 1, 11, 6, 0)) == ("closed", None)
    assert windows.delay_until("Europe/Moscow", None, None, now, now + timedelta(hours=1)) == ("open", 0)
    assert windows.delay_until("Asia/Vladivostok", time(9), time(21), now,
                               now + timedelta(hours=1)) == ("closed", None)   # 05:00 there, opens in 4 h
