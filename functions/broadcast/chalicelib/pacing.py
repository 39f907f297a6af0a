"""When each recipient's message leaves, counted in seconds from the form post (delay_seconds):

- "spread" (the default): each message its own random delay in the range (5-50 s), so the whole broadcast
  leaves within the range's high end;
- "serial", one at a time: each message a random gap in the range after the previous one (cumulative delays), so
  a broadcast of n numbers takes about n times the mean gap. fanout.py queues these a horizon at a time.
"""
import random

SPREAD, SERIAL = "spread", "serial"
MODES = (SPREAD, SERIAL)


def choose_delays(count, delay_range, rng=random):
    """count random DelaySeconds values, each uniform in delay_range (inclusive)."""
    low, high = delay_range
    return [rng.randint(low, high) for _ in range(count)]


def serial_delays(count, delay_range, rng=random):
    """count delays, each a random gap in delay_range after the one before (the first after the post)."""
    total, delays = 0, []
    for gap in choose_delays(count, delay_range, rng):
        total += gap
        delays.append(total)
    return delays


def delays(mode, count, delay_range, rng=random):
    """The delays of a broadcast of count numbers in a pacing mode."""
    return serial_delays(count, delay_range, rng) if mode == SERIAL else choose_delays(count, delay_range, rng)


def estimate(mode, count, delay_range):
    """(earliest, expected, latest) seconds from the post until the last message leaves."""
    low, high = delay_range
    if mode == SERIAL:
        return count * low, round(count * (low + high) / 2), count * high
    return low, high, high    # the last of many random delays lands near the top of the range
