"""UTC time as MySQL DATETIME wants it (naive, UTC): one clock for every timestamp we write."""
from datetime import datetime, timezone


def utcnow():
    """Now, UTC, without tzinfo, millisecond precision (the columns are DATETIME(3))."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def from_unix(seconds):
    """A unix time (seconds; milliseconds are recognised too) as a naive UTC datetime."""
    seconds = float(seconds)
    if seconds > 1e11:      # ChatApp sends seconds; tolerate milliseconds
        seconds /= 1000.0
    return datetime.fromtimestamp(seconds, timezone.utc).replace(tzinfo=None)
