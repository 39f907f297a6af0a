"""How long a client waits after failed sign-ins: a few free mistakes, then an exponentially growing lockout.

Only the policy (plain numbers); where the failures are counted is the product's (a table every instance
shares, e.g. broadcast's login_failures in MySQL). A guesser gets `free` tries, then one every 1, 2, 4...
seconds up to `cap`; a person who mistypes a few times never notices. Failures older than `forget_after`
seconds start the count again; a successful sign-in forgets them at once.
"""
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    free: int = 10              # failures answered normally before the first lockout
    base: float = 1.0           # seconds of the first lockout, doubled by every further failure
    cap: int = 900              # the longest lockout (15 minutes)
    forget_after: int = 3600    # a failure older than this no longer counts

    def lockout(self, failures):
        """Seconds a client is refused after its n-th failure in a row (0 while it has free tries left)."""
        if failures <= self.free:
            return 0
        exponent = min(failures - self.free - 1, 32)   # bounded: 2**32 already exceeds any cap
        return int(min(self.cap, math.ceil(self.base * 2 ** exponent)))


def retry_after(locked_until, now):
    """Whole seconds until a lock ends (at least 1 while it lasts, 0 once it is over)."""
    remaining = (locked_until - now).total_seconds() if locked_until else 0
    return max(1, math.ceil(remaining)) if remaining > 0 else 0
