"""`make check` (tests/quick_tier.py): the tests whose fixtures start no server, and nothing that opens a socket."""
import re
from pathlib import Path

import pytest

import quick_tier

pytest_plugins = ["pytester"]
ROOT = Path(__file__).resolve().parents[2]

CONFTEST = """
import pytest
import quick_tier

def pytest_addoption(parser):
    quick_tier.add_option(parser)

def pytest_configure(config):
    quick_tier.register(config)

@pytest.fixture
def pg_url():
    return "postgresql://nowhere"
"""

SUITE = """
import socket
import pytest

@pytest.fixture
def database(pg_url):          # a server fixture reached through another fixture
    return pg_url

def test_parses():
    assert int("7") == 7

def test_uses_the_database(database):
    assert database

@pytest.mark.server
def test_starts_its_own_server():
    pass

@pytest.fixture
def own_server():              # listed as "test_suite.py::own_server"
    return "127.0.0.1:1"

def test_uses_the_modules_own_server(own_server):
    assert own_server

def test_sneaks_a_connection():
    try:
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    except Exception:
        pass                   # swallowed: the tier still fails the test
"""


@pytest.fixture
def run(pytester, monkeypatch):
    monkeypatch.setattr(quick_tier, "SERVER_FIXTURES", quick_tier.SERVER_FIXTURES | {"test_suite.py::own_server"})
    monkeypatch.setattr(quick_tier, "OUTSIDE", {**quick_tier.OUTSIDE, "test_tool.py": "runs a slow tool"})
    pytester.makepyfile(test_tool="def test_runs_the_tool():\n    assert True\n")
    # A fixture of the same name elsewhere is not that server.
    pytester.makepyfile(test_other="import pytest\n\n@pytest.fixture\ndef own_server():\n    return None\n\n"
                                   "def test_same_name_no_server(own_server):\n    assert own_server is None\n")
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_suite=SUITE)
    return pytester.runpytest_inprocess


# The inner suites open a socket on purpose, which make check's own guard would count against these tests.
@pytest.mark.server
def test_quick_runs_only_server_free_tests_and_fails_one_that_opens_a_socket(run):
    result = run("--quick", "-rA")
    result.assert_outcomes(passed=2, failed=1, deselected=4)
    result.stdout.fnmatch_lines(["*make check: test_suite.py::test_sneaks_a_connection is in the server-free tier "
                                 "but used a server in its call: socket.connect(('127.0.0.1', 9))*",
                                 "PASSED test_other.py::test_same_name_no_server",
                                 "PASSED test_suite.py::test_parses"])


@pytest.mark.server
def test_without_quick_everything_runs_and_the_tier_is_marked(run):
    run().assert_outcomes(passed=7)     # the guard is off: the refused connection is just caught
    run("-m", "quick").assert_outcomes(passed=3, deselected=4)


def test_every_named_fixture_and_test_exists():
    """A renamed module, fixture or test must not leave its server test in the tier unnoticed."""
    for entry in [*quick_tier.SERVER_FIXTURES, *quick_tier.OUTSIDE]:
        if "::" not in entry and not entry.endswith(".py"):
            continue    # a shared fixture's name
        path, _, name = entry.partition("::")
        source = (ROOT / path).read_text()
        assert not name or re.search(rf"^def {re.escape(name)}\(", source, re.M), entry
