"""Basic auth throttled per client address after failures, through the local cloud: a few mistakes are free,
then 429 + Retry-After with a page saying when to come back, doubling; the right password from another
address, or after the wait, works; the count lives in MySQL, so every instance refuses the same client."""
import http.client
import json
import time
from urllib.parse import urlsplit

import pytest
import requests

from functions.broadcast.chalicelib import login_throttle

from broadcast_helpers import SECRET, USER, basic
from test_broadcast_runtime import SCHEDULED_EVENT

FREE = login_throttle.POLICY.free


def get(base, auth=None, language="en", source="127.0.0.1"):
    """GET / from a chosen local source address (127.0.0.x all reach the gateway on 127.0.0.1)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30, source_address=(source, 0))
    headers = {"Accept-Language": language, **({"Authorization": auth} if auth else {})}
    conn.request("GET", "/", headers=headers)
    response = conn.getresponse()
    body = response.read().decode("utf-8")
    conn.close()
    return response.status, dict(response.getheaders()), body


def wrong(base, source="127.0.0.1"):
    return get(base, basic(USER, "guess"), source=source)


@pytest.fixture
def throttle_state(emulator, sql):
    """No failures on record before and after (clean_db, via emulator, empties the table)."""
    yield
    sql("DELETE FROM login_failures")


def test_free_mistakes_then_a_lockout_that_doubles_and_a_page_saying_when(site, throttle_state, sql):
    for _ in range(FREE):
        assert wrong(site)[0] == 401
    status, headers, page = wrong(site)
    assert status == 429 and headers["Retry-After"] == "1" and headers["Cache-Control"] == "no-store"
    assert "Too many failed sign-ins from your address. Wait 1 s and try again after" in page
    assert "WWW-Authenticate" not in headers
    # While locked even the right password is refused: its answer must not tell a guesser anything.
    assert get(site, basic())[0] == 429
    time.sleep(1.1)
    status, headers, _page = wrong(site)
    assert (status, headers["Retry-After"]) == (429, "2")
    time.sleep(2.1)
    status, headers, _page = wrong(site)
    assert (status, headers["Retry-After"]) == (429, "4")
    [row] = sql("SELECT failures, locked_until FROM login_failures WHERE client = '127.0.0.1'")
    assert row["failures"] == FREE + 3 and row["locked_until"] is not None
    time.sleep(4.1)
    assert get(site, basic())[0] == 200
    assert not sql("SELECT * FROM login_failures")              # a success forgets the failures
    assert wrong(site)[0] == 401                                  # and the free mistakes are back


def test_the_page_is_russian_by_default(site, throttle_state):
    for _ in range(FREE):
        wrong(site)
    status, _headers, page = get(site, basic(USER, "guess"), language="")
    assert status == 429 and "Слишком много неудачных попыток входа с вашего адреса. Подождите 1 с" in page


def test_other_addresses_and_other_instances(site, live_site, throttle_state):
    for _ in range(FREE):
        wrong(site)
    assert wrong(live_site)[0] == 429                             # the other cloud's instance counts on
    assert get(site, basic(), source="127.0.0.2")[0] == 200       # another client signs in as usual
    assert wrong(site, source="127.0.0.2")[0] == 401              # and has its own free mistakes


def test_requests_without_credentials_and_the_webhook_are_not_counted(site, throttle_state, sql):
    for _ in range(FREE * 2):
        assert get(site)[0] == 401                                # a browser's first request: no credentials
    assert not sql("SELECT * FROM login_failures")
    for _ in range(FREE + 1):
        wrong(site)
    hook = requests.post(f"{site}/prod/webhooks/chatapp?secret={SECRET}", timeout=30,
                         data=json.dumps({"data": [], "meta": {"type": "messageStatus"}}),
                         headers={"Content-Type": "application/json"})
    assert hook.status_code == 200


def test_stale_records_are_purged_by_the_maintenance_run(cloud, throttle_state, sql):
    sql("INSERT INTO login_failures (client, failures, last_failure_at) VALUES "
        "('192.0.2.1', 3, UTC_TIMESTAMP() - INTERVAL 2 HOUR), ('192.0.2.2', 3, UTC_TIMESTAMP())")
    result = cloud.invoke("BroadcastMaintenanceFunction", SCHEDULED_EVENT)
    assert result["login_records_purged"] == 1
    assert [r["client"] for r in sql("SELECT client FROM login_failures")] == ["192.0.2.2"]
