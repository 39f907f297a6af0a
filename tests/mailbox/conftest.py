"""Mailbox fixtures: a connection to the migrated test database, fresh mailboxes, the running API."""
import uuid
from dataclasses import dataclass

import pytest
import requests

import fuzz_support
from functions.mailbox.chalicelib import mailboxes


@dataclass(frozen=True)
class Owner:
    """A test mailbox with its API key (usable wherever the code expects an access.Mailbox)."""
    id: int
    address: str
    key: str

    @property
    def headers(self):
        return {"Authorization": f"Bearer {self.key}"}


@pytest.fixture
def make_mailbox(conn):
    """make_mailbox(name) -> Owner with a unique address, committed, so tests never share data."""
    def make(name="user"):
        with conn, conn.cursor() as cur:
            address, key = mailboxes.create(cur, f"{name}.{uuid.uuid4().hex[:10]}@test.example")
            cur.execute("SELECT id FROM mailbox.mailboxes WHERE address = %s", (address,))
            return Owner(cur.fetchone()[0], address, key)
    return make


@pytest.fixture(scope="session")
def mailbox_cloud(start_cloud):
    """The local cloud running only MailboxFunction."""
    return start_cloud.for_session(start_cloud(functions=["MailboxFunction"]))


@pytest.fixture(scope="session")
def api_url(mailbox_cloud):
    """Base URL of MailboxApi on the local gateway."""
    return mailbox_cloud.api_url("MailboxApi")


@pytest.fixture
def http(api_url):
    """http(method, path, owner=None, **requests kwargs) -> requests.Response from the gateway."""
    session = requests.Session()

    def call(method, path, owner=None, headers=None, **kwargs):
        all_headers = dict(owner.headers if owner else {})
        all_headers.update(headers or {})
        return session.request(method, api_url + path, headers=all_headers, timeout=30, **kwargs)
    yield call
    session.close()


@pytest.fixture(scope="module")
def environment(start_cloud):
    """The environment the local cloud gives MailboxFunction (nothing started)."""
    return fuzz_support.function_environment(start_cloud, "MailboxFunction")


@pytest.fixture
def mailbox(environment):
    """The mailbox app.py in this process (tests/fuzz_support.Product), in its function's environment."""
    with fuzz_support.product("mailbox", environment) as app:
        yield app
