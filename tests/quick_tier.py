"""`make check` (`pytest --quick`): the tests that need no server, for the edit-test loop.

A test belongs to the tier unless it uses, directly or through other fixtures, one of SERVER_FIXTURES
(PostgreSQL, MariaDB, moto, local clouds, Dovecot, Chromium, the API emulators), is listed in OUTSIDE or is
marked `@pytest.mark.server` (a test that starts a server itself). Selection is by fixtures, so a new server-free
test joins by itself. Every such test is also marked `quick` (`-m quick`, `-m "not quick"` work in any run).

A selected test cannot lean on a server unnoticed: under --quick, binding or connecting an internet socket
(itself or through any library) raises ServerUsed and the test is reported failed even if the code caught the
error, and `make check` points the database and AWS URLs at a closed port, so a PostgreSQL connection (libpq,
below Python's sockets) is refused at once instead of reaching a real server.

tests/conftest.py registers it; pytest.ini declares the two markers.
"""
import socket
import threading

import pytest

# The fixtures that start or reach a server; everything that depends on one of them is a server test too
# (pytest's fixture closure is followed). Shared fixtures by name, a test module's own as "module::name".
SERVER_FIXTURES = frozenset({
    "pg_url", "mysql_url", "aws_endpoint", "_moto", "start_cloud", "chromium", "chromium_browser", "dovecot",
    "emulator_server",
    "localcloud/tests/test_http_gateway_limits.py::gateway",
    "localcloud/tests/test_moto_sqs_scale.py::sqs",
    "localcloud/tests/test_moto_server.py::moto",
    "localcloud/tests/test_sqs_poller.py::sqs",
    "localcloud/tests/test_ws_gateway.py::make_gateway",
    "localcloud/tests/test_scheduler.py::scheduler",     # the local cloud's scheduler, firing in real time
})
# Tests kept out by name (a module path keeps out all its tests), each with the server or the slow tool it
# runs in its own body, where no fixture shows it. A new such test is marked @pytest.mark.server instead.
OUTSIDE = {
    "localcloud/tests/test_sqs_poller.py::test_endpoint_down_is_logged_and_retried": "binds a port",
    "tests/mail_import/test_mail_import_sync.py::test_a_tarpit_is_cut_off_by_the_minimum_rate_and_the_session_deadline":
        "a fake IMAP server",
    "tests/notifications/test_notifications_local_wiring.py::"
    "test_generated_jwt_and_emulator_started_from_the_template_parameters": "starts the emulators",
    "tests/foundation/test_deploy.py": "sam build and pip installs (minutes)",
    "localcloud/tests/test_sites.py": "installs packages from the package index",
    "localcloud/tests/test_state_persistence.py": "local clouds with moto in subprocesses",
    "tests/foundation/test_lint.py": "flake8 and cfn-lint over the whole tree: make lint's work",
    "tests/notifications/test_notifications_provider.py": "a fake provider on an HTTP port in each test",
    "localcloud/tests/test_any_template.py::test_saved_state_belongs_to_one_stack_and_template": "a moto server",
    "tests/foundation/test_run_local.py::test_emulators_start_only_where_a_parameter_keeps_its_local_default":
        "starts the emulators",
}
GUARDED_FAMILIES = (socket.AF_INET, socket.AF_INET6)


class ServerUsed(RuntimeError):
    """A test of the server-free tier bound or connected an internet socket."""


def add_option(parser):
    parser.addoption("--quick", action="store_true",
                     help="run only the tests that need no server (make check); fail one that opens a socket")


def fixture_names(item):
    """Every fixture the test uses, directly or not: each by its name and as "where-defined::name"."""
    names = set(item.fixturenames)
    for name, definitions in getattr(item, "_fixtureinfo").name2fixturedefs.items():
        names.update(f"{definition.baseid}::{name}" for definition in definitions)
    return names


def needs_server(item):
    test = item.nodeid.split("[")[0]
    return (item.get_closest_marker("server") is not None or test in OUTSIDE or test.split("::")[0] in OUTSIDE
            or not SERVER_FIXTURES.isdisjoint(fixture_names(item)))


class QuickTier:
    def __init__(self, select):
        self.select = select
        self.used = []      # what the running test did: "connect(('127.0.0.1', 5432))", ...
        self.saved = {}
        self.before = set()     # threads running before the test began: not the test's doing

    @pytest.hookimpl(tryfirst=True)    # before `-m` filters on the marker it adds
    def pytest_collection_modifyitems(self, config, items):
        server, quick = [], []
        for item in items:
            if needs_server(item):
                server.append(item)
            else:
                item.add_marker(pytest.mark.quick)
                quick.append(item)
        if self.select and server:
            config.hook.pytest_deselected(items=server)
            items[:] = quick

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item):
        if self.select:
            self._arm()
        try:
            yield
        finally:
            self._disarm()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        if self.used:
            report = outcome.get_result()
            report.outcome = "failed"
            report.longrepr = (f"make check: {item.nodeid} is in the server-free tier but used a server in its "
                               f"{call.when}: {'; '.join(self.used)}.\nGive it the fixture that provides the "
                               f"server, or mark it @pytest.mark.server.\n\n{report.longrepr or ''}")
            self.used.clear()

    def _arm(self):
        # A --quick run inside a whole suite's process (tests/foundation/test_quick_tier.py through pytester) shares
        # it with the suite's running clouds, whose poller threads reach the suite's moto: those are not the test's
        # sockets. The test's own thread and any thread it starts are guarded.
        self.before = {thread.ident for thread in threading.enumerate()} - {threading.get_ident()}
        for name in ("bind", "connect", "connect_ex"):
            real = getattr(socket.socket, name)
            self.saved[name] = real
            setattr(socket.socket, name, self._guard(name, real))

    def _disarm(self):
        for name, real in self.saved.items():
            setattr(socket.socket, name, real)
        self.saved.clear()

    def _guard(self, name, real):
        def guarded(sock, address, *args):
            if sock.family in GUARDED_FAMILIES and threading.get_ident() not in self.before:
                self.used.append(f"socket.{name}({address!r})")
                raise ServerUsed(f"the server-free tier (make check) opened a socket: {name}({address!r})")
            return real(sock, address, *args)
        return guarded


def register(config):
    config.pluginmanager.register(QuickTier(config.getoption("quick")), "quick_tier")
