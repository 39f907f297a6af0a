"""Polling for tests that wait on something another process does: localcloud.testing's."""
from localcloud.testing import wait_until  # noqa: F401 - the name the tests import
