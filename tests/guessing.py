"""Parallel wrong guesses for the sign-in throttling tests of every product: many threads released at once
(each with its own database connection, as parallel Lambda instances have), and a count of how many
reached the password check."""
import fcntl
import http.client
import os
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from urllib.parse import urlsplit


# One burst at a time on this machine: each thread holds a database connection (up to 40 per burst) and the
# test servers accept max_connections 100 in all; two `pytest -n 2` workers (or two suites) firing at once, beside
# the clouds' own connections, were refused with "too many clients". Waiting here changes no burst.
LOCK = os.path.join(tempfile.gettempdir(), "tests-guessing-fire.lock")


def fire(count, attempt):
    """attempt(i) for i in range(count), all threads released together by a barrier; the results in order.
    The threads end (and their cached connections close) before the next burst, of any worker, may start."""
    barrier = threading.Barrier(count)

    def run(index):
        barrier.wait(timeout=30)
        try:
            return attempt(index)
        finally:
            _close_cached_connections()

    with open(LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _wait_for_room(count)
        with ThreadPoolExecutor(count) as pool:
            return list(pool.map(run, range(count)))


def _wait_for_room(count, timeout=60):
    """Wait (up to timeout, then go ahead) until PostgreSQL has room for the burst's connections beside what the
    other workers' clouds hold now: under `make test`'s four workers they held 30-60, and a burst adds up to 40."""
    import psycopg2
    url = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/platform_test")
    deadline = time.monotonic() + timeout
    conn = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres", connect_timeout=10)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SHOW max_connections")
            room = int(cur.fetchone()[0]) - ROOM_KEPT
            while time.monotonic() < deadline:
                cur.execute("SELECT count(*) FROM pg_stat_activity")
                if cur.fetchone()[0] + count <= room:
                    return
                time.sleep(0.2)
    finally:
        conn.close()


ROOM_KEPT = 10      # connections left free for what the other workers open while the burst runs


def _close_cached_connections():
    """Close the connections common.db cached for this thread: a burst thread ends here, and what it leaves to the
    garbage collector (some sit in reference cycles) stayed open for seconds, 20-50 idle connections beside the next
    burst and the other workers' clouds (PostgreSQL allows 100)."""
    from common import db
    for held in list(vars(db._local).values()):
        if held:
            try:
                held[0].close()
            except Exception:  # noqa: BLE001 - closing a broken connection is a courtesy
                pass
    vars(db._local).clear()


class Calls:
    """Wraps a function (monkeypatched in place of the product's password check) and counts its calls."""

    def __init__(self, function):
        self.function, self.count, self._lock = function, 0, threading.Lock()

    def __call__(self, *args, **kwargs):
        with self._lock:
            self.count += 1
        return self.function(*args, **kwargs)


def count_calls(monkeypatch, owner, name):
    """Replace owner.name by a counting wrapper of itself; returns the wrapper (its .count)."""
    calls = Calls(getattr(owner, name))
    monkeypatch.setattr(owner, name, calls)
    return calls


def request(url, method="GET", body=None, headers=None, source="127.0.0.1"):
    """(status, headers, body text) of one HTTP request sent from a chosen local address (127.0.0.x all reach
    the local gateway on 127.0.0.1, which reports it as the caller's sourceIp)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60, source_address=(source, 0))
    try:
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=body,
                     headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode("utf-8")
    finally:
        conn.close()


def thread_requests(monkeypatch):
    """call(route, body, source, headers=None, **url_params) -> the route function's answer, as API Gateway
    would pass a POST from `source`. Chalice keeps current_request on the app object, shared by threads;
    here it is per thread, so parallel calls of app.py's handlers each see their own request."""
    from chalice import Chalice
    local = threading.local()
    monkeypatch.setattr(Chalice, "current_request", property(lambda self: local.request, lambda self, value: None),
                        raising=False)

    def call(route, body, source, headers=None, **params):
        local.request = SimpleNamespace(
            headers={k.lower(): v for k, v in (headers or {}).items()}, raw_body=body.encode("utf-8"),
            context={"identity": {"sourceIp": source}, "stage": "", "path": ""}, query_params=None, method="POST")
        return route(**params)
    return call
