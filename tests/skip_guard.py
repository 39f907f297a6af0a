"""A missing dependency fails the suite: any skipped (or xfailed) test fails the session unless listed.

tests/conftest.py registers it. A skip is allowed only when ALLOWED_SKIPS names its node id with the
reason it may be skipped; the list starts empty and every entry needs a reason a reviewer accepts.
"""
import pytest

# node id -> why skipping it is acceptable. Empty on purpose: nothing in this suite may skip.
ALLOWED_SKIPS = {}


class SkipGuard:
    def __init__(self, allowed):
        self.allowed = allowed
        self.unlisted = []

    def _note(self, report):
        if report.skipped and report.nodeid not in self.allowed:
            reason = getattr(report, "wasxfail", None)
            if reason is None and isinstance(report.longrepr, tuple):
                reason = report.longrepr[2]
            self.unlisted.append((report.nodeid or "<collection>", str(reason or report.longrepr)))

    def pytest_runtest_logreport(self, report):
        self._note(report)

    def pytest_collectreport(self, report):
        self._note(report)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session):
        if self.unlisted and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter):
        if self.unlisted:
            terminalreporter.section("skipped without a listed reason (tests/skip_guard.py ALLOWED_SKIPS)",
                                     red=True)
            for nodeid, reason in self.unlisted:
                terminalreporter.line(f"{nodeid}: {reason}", red=True)


def register(config, allowed=None):
    config.pluginmanager.register(SkipGuard(ALLOWED_SKIPS if allowed is None else allowed), "skip_guard")
