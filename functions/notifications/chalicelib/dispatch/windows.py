"""Send windows in the client's local time (zoneinfo): inside now, or when the window next opens.

A window is two local wall-clock times; end before start means it crosses midnight (22:00-06:00).
Openings are computed on wall-clock dates, so a DST change moves them with the clocks: an opening
that falls into a skipped hour (spring forward) happens when the clocks jump past it.
"""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo


def is_open(local_time, start, end):
    """Is a local wall-clock time inside [start, end)? (Crossing midnight when end < start.)"""
    if start < end:
        return start <= local_time < end
    return local_time >= start or local_time < end


def next_opening(tz_name, start, end, now):
    """None if the window is open at `now` (or there is none); else the UTC moment it next opens."""
    if start is None:
        return None
    zone = ZoneInfo(tz_name)
    local = now.astimezone(zone)
    if is_open(local.time().replace(tzinfo=None), start, end):
        return None
    for days in range(0, 3):
        day = local.date() + timedelta(days=days)
        opening = _wall_clock(day, start, zone)
        if opening > now:
            return opening
    raise AssertionError("a daily window opens within two days")  # pragma: no cover


def _wall_clock(day, at, zone):
    """The UTC moment a local date and time happens. A repeated hour (fall back) takes its first
    occurrence; a time in a skipped hour (spring forward) opens at the jump, the first moment whose wall
    clock is at or past it."""
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=zone, fold=0).astimezone(timezone.utc)
    if first.astimezone(zone).replace(tzinfo=None) == naive:
        return first
    # In a gap: fold=1 reads it with the later offset, landing before the jump; fold=0 after it.
    low = naive.replace(tzinfo=zone, fold=1).astimezone(timezone.utc)
    high = first
    while (high - low) > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= naive:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def delay_until(tz_name, start, end, now, end_at):
    """("open", 0), ("wait", seconds) or ("closed", None) when the window does not open before end_at."""
    opening = next_opening(tz_name, start, end, now)
    if opening is None:
        return "open", 0
    if opening >= end_at:
        return "closed", None
    return "wait", max(1, int((opening - now).total_seconds() + 0.999))
