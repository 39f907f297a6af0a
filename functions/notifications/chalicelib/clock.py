"""The current time, one place (UTC, aware)."""
from datetime import datetime, timezone


def now():
    return datetime.now(timezone.utc)
