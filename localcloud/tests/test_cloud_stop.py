"""Cloud.stop(): every poller is asked to stop before any is waited for (a stack has a poller per queue, and each
returns only after its current receive, so one after another the waits add up)."""
import threading

from localcloud.cloud import Cloud


class PollerFinishingWithTheOthers:
    """stop() returns only once every poller of the cloud is inside stop(): stopped one after another, the first
    never returns and the barrier breaks."""

    def __init__(self, barrier):
        self.barrier, self.stopped = barrier, False

    def stop(self):
        self.barrier.wait(timeout=10)
        self.stopped = True


def test_all_pollers_are_stopped_at_once():
    pollers = 5
    barrier = threading.Barrier(pollers)
    cloud = Cloud("template.yaml")     # never started: stop() takes down only what is there
    cloud.pollers = [PollerFinishingWithTheOthers(barrier) for _ in range(pollers)]
    cloud.stop()
    assert not barrier.broken
    assert all(poller.stopped for poller in cloud.pollers)
