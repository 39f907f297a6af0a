"""A stand-in for the runtime's invoke() in the poller and scheduler tests."""
import threading
import time


class Recorder:
    """Records every invocation with its start time; `behaviour(event)` may raise or return a result."""

    def __init__(self, behaviour=None):
        self.calls = []
        self.behaviour = behaviour
        self.cond = threading.Condition()

    def __call__(self, function_id, event, trigger):
        with self.cond:
            self.calls.append((time.monotonic(), function_id, event, trigger))
            self.cond.notify_all()
        return self.behaviour(event) if self.behaviour else None

    def wait_for(self, until, timeout=10.0):
        """Wait until `until(self)` is true, or until there are `until` calls if it is a number."""
        check = (lambda rec: len(rec.calls) >= until) if isinstance(until, int) else until
        with self.cond:
            assert self.cond.wait_for(lambda: check(self), timeout), f"timed out after {len(self.calls)} calls"

    def events(self):
        """Every event received, in order."""
        return [event for _, _, event, _ in self.calls]

    def records(self):
        """Every SQS record received, in order."""
        return [r for event in self.events() for r in event["Records"]]

    def bodies(self):
        """The bodies of every SQS record received, in order."""
        return [r["body"] for r in self.records()]
