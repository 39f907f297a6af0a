"""The suite fails when a test is skipped (a missing dependency must never pass quietly)."""
import pytest

pytest_plugins = ["pytester"]

SUITE = """
import pytest

def test_runs():
    assert True

def test_needs_something():
    pytest.importorskip("a_module_that_is_not_installed")
"""


@pytest.fixture
def guarded(pytester):
    def run(allowed, *args):
        pytester.makeconftest(f"import skip_guard\n\ndef pytest_configure(config):\n"
                              f"    skip_guard.register(config, {allowed!r})\n")
        pytester.makepyfile(test_suite=SUITE)
        return pytester.runpytest_inprocess(*args)
    return run


def test_an_unlisted_skip_fails_the_session(guarded):
    result = guarded({})
    result.assert_outcomes(passed=1, skipped=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*skipped without a listed reason*",
                                 "test_suite.py::test_needs_something: *a_module_that_is_not_installed*"])


def test_a_module_level_skip_fails_the_session(pytester, guarded):
    pytester.makepyfile(test_other="import pytest\npytest.skip('no chromium', allow_module_level=True)\n")
    result = guarded({"test_suite.py::test_needs_something": "listed"})
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["test_other.py: *no chromium*"])


def test_an_xfail_counts_as_a_skip(pytester, guarded):
    pytester.makepyfile(test_other="import pytest\n\n@pytest.mark.xfail(reason='later')\n"
                                   "def test_later():\n    assert False\n")
    result = guarded({"test_suite.py::test_needs_something": "listed"})
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["test_other.py::test_later: *later*"])


def test_a_listed_skip_passes(guarded):
    result = guarded({"test_suite.py::test_needs_something": "a reviewed reason"})
    result.assert_outcomes(passed=1, skipped=1)
    assert result.ret == pytest.ExitCode.OK
