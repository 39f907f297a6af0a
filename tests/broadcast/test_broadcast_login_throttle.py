"""Basic auth throttled per client address: each request with credentials reserves an attempt (common.throttle)
before they are compared, so parallel guesses cannot outrun the count; a few mistakes are free, then 429 +
Retry-After with a page saying when to come back, doubling; the right password from another address, or after
the wait, works; the count lives in MySQL, so every instance refuses the same client. Time is moved by an
injected clock (in process) or by writing the lock into the table (through the local cloud): no sleeps."""
import json
from contextlib import contextmanager
from datetime import datetime, timedelta
from types import SimpleNamespace

import pymysql
import pytest
import requests

import guessing
from functions.broadcast.chalicelib import access, auth, clock, login_throttle

from broadcast_helpers import PASSWORD, SECRET, USER, basic
from test_broadcast_runtime import SCHEDULED_EVENT

FREE = login_throttle.POLICY.free
CONFIG = SimpleNamespace(user=USER, password=PASSWORD)


def get(base, auth=None, language="en", source="127.0.0.1"):
    """GET / from a chosen local source address (127.0.0.x all reach the gateway on 127.0.0.1)."""
    headers = {"Accept-Language": language, **({"Authorization": auth} if auth else {})}
    return guessing.request(base + "/", headers=headers, source=source)


def wrong(base, source="127.0.0.1"):
    return get(base, basic(USER, "guess"), source=source)


@pytest.fixture
def throttle_state(emulator, sql):
    """No failures on record before and after (clean_db, via emulator, empties the table)."""
    yield
    sql("DELETE FROM login_failures")


@pytest.fixture
def sign_in(monkeypatch, throttle_state):
    """sign_in(password, source) -> the site's answer to one request, through the app's own sign-in step in
    process (None: let through), on a clock the test moves (`sign_in.now`)."""
    state = SimpleNamespace(now=datetime(2026, 12, 1, 12, 0, 0))
    monkeypatch.setattr(clock, "utcnow", lambda: state.now)

    def run(password, source="192.0.2.10"):
        event = SimpleNamespace(headers={"authorization": basic(USER, password), "accept-language": "en"},
                                context={"identity": {"sourceIp": source}})
        return access.sign_in(CONFIG, event)
    run.state = state
    return run


def test_free_mistakes_then_a_lockout_that_doubles(sign_in, sql):
    for _ in range(FREE):
        assert sign_in("guess").status_code == 401
    locked = sign_in("guess")
    assert locked.status_code == 429 and locked.headers["Retry-After"] == "1"
    assert locked.headers["Cache-Control"] == "no-store" and "WWW-Authenticate" not in locked.headers
    # While locked even the right password is refused: its answer must not tell a guesser anything.
    assert sign_in(PASSWORD).status_code == 429
    for seconds in (1, 2, 4, 8):
        sign_in.state.now += timedelta(seconds=seconds)
        assert sign_in("guess").status_code == 401                  # one more guess once the lock is over
        refused = sign_in("guess")
        assert (refused.status_code, refused.headers["Retry-After"]) == (429, str(seconds * 2))
    [row] = sql("SELECT failures, locked_until FROM login_failures WHERE client = '192.0.2.10'")
    assert row["failures"] == FREE + 4 and row["locked_until"] == sign_in.state.now + timedelta(seconds=16)
    sign_in.state.now += timedelta(seconds=16)
    assert sign_in(PASSWORD) is None
    assert not sql("SELECT * FROM login_failures")              # a success forgets the failures
    assert sign_in("guess").status_code == 401                  # and the free mistakes are back


def test_a_reservation_rolled_back_by_a_deadlock_runs_again_and_counts_once(sign_in, sql, monkeypatch):
    """Parallel sign-ins from one address deadlock now and then in InnoDB (seen as a 503 among 200 requests after a
    MariaDB restart under load): the server rolls the victim back and asks for it to run again, so the gate does,
    and the attempt is counted once. Here the first try's writes are done, then rolled back as the victim's are."""
    real, tries = login_throttle.GATE.transaction, []

    @contextmanager
    def deadlocking():
        with real() as cur:
            yield cur
            tries.append(1)
            if len(tries) == 1:
                raise pymysql.err.OperationalError(1213, "Deadlock found when trying to get lock; try restarting "
                                                         "transaction")
    monkeypatch.setattr(login_throttle.GATE, "transaction", deadlocking)
    assert sign_in("guess").status_code == 401
    assert len(tries) == 2
    [row] = sql("SELECT failures FROM login_failures WHERE client = '192.0.2.10'")
    assert row["failures"] == 1
    assert sign_in(PASSWORD) is None and len(tries) == 4        # its reservation and its forget: one try each
    assert not sql("SELECT * FROM login_failures")


def test_twenty_parallel_guesses_reach_the_password_check_at_most_free_times(sign_in, monkeypatch):
    checks = guessing.count_calls(monkeypatch, auth, "basic_ok")
    answers = guessing.fire(20, lambda i: sign_in(f"guess {i}", "192.0.2.20").status_code)
    assert checks.count == FREE
    assert sorted(answers) == [401] * FREE + [429] * (20 - FREE)
    assert sign_in(PASSWORD, "192.0.2.20").status_code == 429
    assert sign_in(PASSWORD, "192.0.2.21") is None               # the owner elsewhere signs in
    assert checks.count == FREE + 1


def lock(sql, client, seconds):
    """Put a client into a lockout of `seconds` as FREE failures would (the table is the one every instance
    reads)."""
    sql("INSERT INTO login_failures (client, failures, last_failure_at, locked_until) "
        "VALUES (%s, %s, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3) + INTERVAL %s SECOND)", client, FREE, seconds)


def test_the_page_says_when_to_come_back_in_english_and_russian(site, throttle_state, sql):
    lock(sql, "127.0.0.1", 120)
    status, headers, page = wrong(site)
    assert status == 429 and 115 <= int(headers["Retry-After"]) <= 120 and headers["Cache-Control"] == "no-store"
    assert "Too many failed sign-ins from your address. Wait 1" in page and "and try again after" in page
    status, _headers, page = get(site, basic(), language="")
    assert status == 429 and "Слишком много неудачных попыток входа с вашего адреса. Подождите 1" in page


def test_other_addresses_and_other_instances(site, live_site, throttle_state, sql):
    for _ in range(FREE - 1):
        assert wrong(site)[0] == 401
    assert wrong(live_site)[0] == 401                             # the other cloud's instance counts on
    [row] = sql("SELECT failures, locked_until FROM login_failures WHERE client = '127.0.0.1'")
    assert row["failures"] == FREE and row["locked_until"] is not None
    lock(sql, "127.0.0.3", 120)
    assert get(live_site, basic(), source="127.0.0.3")[0] == 429  # a lock written anywhere holds everywhere
    assert get(site, basic(), source="127.0.0.2")[0] == 200       # another client signs in as usual
    assert wrong(site, source="127.0.0.2")[0] == 401              # and has its own free mistakes


def test_requests_without_credentials_and_the_webhook_are_not_counted(site, throttle_state, sql):
    for _ in range(FREE * 2):
        assert get(site)[0] == 401                                # a browser's first request: no credentials
    assert not sql("SELECT * FROM login_failures")
    lock(sql, "127.0.0.1", 120)
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
