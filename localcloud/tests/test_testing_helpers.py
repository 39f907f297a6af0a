"""localcloud.testing: the registry that stops a test's or a module's clouds, and keeps a session's."""
import pytest

from localcloud.testing import Clouds, wait_until


class FakeCloud:
    def __init__(self, name):
        self.name, self.stopped = name, 0

    def start(self):
        return self

    def stop(self):
        self.stopped += 1


def test_a_module_stops_what_it_started_but_not_a_session_fixtures_cloud():
    clouds = Clouds()
    older = clouds.started(FakeCloud("older"))
    before = clouds.running()
    mine = clouds.started(FakeCloud("module's"))
    shared = clouds.for_session(clouds.started(FakeCloud("session's")))
    clouds.stop_started_since(before, keep_session=True)
    assert (older.stopped, mine.stopped, shared.stopped) == (0, 1, 0)
    assert clouds.running() == [older, shared]
    clouds.stop_all()
    assert (older.stopped, mine.stopped, shared.stopped) == (1, 1, 1) and clouds.running() == []


def test_a_test_stops_everything_it_started_and_nothing_twice():
    clouds = Clouds()
    before = clouds.running()
    first = clouds.started(FakeCloud("a"))
    clouds.stop([first])
    clouds.stop_started_since(before)
    assert first.stopped == 1


def test_wait_until_returns_the_value_or_names_what_it_waited_for():
    values = iter([0, [], "ready"])
    assert wait_until(lambda: next(values), timeout=5, interval=0) == "ready"
    with pytest.raises(AssertionError, match="the queue drained"):
        wait_until(lambda: None, timeout=0, what="the queue drained", interval=0)
