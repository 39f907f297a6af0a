"""Helpers for the tests of a project that runs its template on localcloud (and for localcloud's own tests).

- `wait_until`: poll for what another process does (a queue drained, a row written, a page updated).
- `sent_email`: the e-mail SES accepted in a moto server running in this process (`localcloud.cloud.start_moto`).
- `Clouds`: the clouds a test session started, so that each stops when whatever started it ends. A cloud left
  running after its test or module goes on polling queues and firing schedules, and acts on later tests' rows
  (a scheduled claim took another test's due accounts; a retried message reached a reused id).
"""
import json
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


def sent_email():
    """[{"id", "source", "subject", "body", "destinations"}] of every e-mail SES accepted, oldest first, read from the
    moto server of this process (functions send to it over HTTP).

    Not /moto-api/data.json: that serialises every model instance moto has tracked since the session began (every S3
    key, queue and message of every earlier test, attribute by attribute), so it slows as the session grows; late in
    a loaded `pytest -n 2` run it took over 10 s. This reads the same tracked SES messages, and only those, in the
    shape data.json gives them (their public JSON-able attributes)."""
    from moto.core.model_instances import model_data
    model = model_data.get("ses", {}).get("Message")
    return [_public(message) for message in list(getattr(model, "instances_tracked", []))]


def _public(instance):
    out = {}
    for name in dir(instance):
        if name.startswith("_"):
            continue
        value = getattr(instance, name)
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            continue
        out[name] = value
    return out


class Clouds:
    """The started clouds not stopped yet. A test (or a module) takes `running()` before it and calls
    `stop_started_since(before)` after it; clouds of session-scoped fixtures are marked with `for_session` and
    outlive every module."""

    def __init__(self):
        self._running = []
        self._session = []

    def started(self, cloud):
        self._running.append(cloud)
        return cloud

    def for_session(self, cloud):
        self._session.append(cloud)
        return cloud

    def running(self):
        return list(self._running)

    def stop(self, clouds):
        for cloud in clouds:
            if cloud in self._running:
                self._running.remove(cloud)
                cloud.stop()

    def stop_all(self):
        self.stop(list(self._running))

    def stop_started_since(self, before, keep_session=False):
        self.stop([cloud for cloud in list(self._running)
                   if cloud not in before and not (keep_session and cloud in self._session)])

    def fixtures(self):
        """The two autouse fixtures a conftest assigns to module-level names, so pytest finds them:
        `_stop_the_modules_own_clouds, _stop_the_tests_own_clouds = clouds.fixtures()`.

        The module one: a module-scoped fixture's cloud stops at the module's end (left running, its schedules and
        pollers act on later modules' rows: a sync schedule claimed another module's due accounts); the clouds of
        session-scoped fixtures (`for_session`) are left running for the modules that share them.
        The test one: a cloud started by a test (or a function-scoped fixture) stops when the test ends, not at the
        session's end: its pollers and workers would go on using the CPU for every later test, and act on queue
        messages naming ids that later tests reuse. Session- and module-scoped fixtures are set up before it, so
        their clouds are left running for the tests that share them."""
        import pytest   # only where pytest runs: localcloud itself does not need it

        @pytest.fixture(scope="module", autouse=True)
        def _stop_the_modules_own_clouds():
            before = self.running()
            yield
            self.stop_started_since(before, keep_session=True)

        @pytest.fixture(autouse=True)
        def _stop_the_tests_own_clouds():
            before = self.running()
            yield
            self.stop_started_since(before)

        return _stop_the_modules_own_clouds, _stop_the_tests_own_clouds
