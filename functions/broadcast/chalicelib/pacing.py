"""When each recipient's message leaves: a random delay per message, counted from the form post."""
import random


def choose_delays(count, delay_range, rng=random):
    """count random DelaySeconds values, each uniform in delay_range (inclusive)."""
    low, high = delay_range
    return [rng.randint(low, high) for _ in range(count)]
