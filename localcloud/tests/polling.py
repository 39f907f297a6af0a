"""Polling for tests that wait on something another process does (a queue drained, a page updated)."""
import time


def wait_until(predicate, timeout=20.0, what="condition", interval=0.1):
    """Poll predicate() until it returns something truthy, and return that; AssertionError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
