"""The provider client's verdicts over real HTTP: what is worth another attempt and what is a final refusal.

Statuses come from the provider emulator; answers the emulator never gives (a 200 without JSON, a 200 with a
non-zero code) come from a tiny HTTP server in this file; a network error from a port bound but not listening."""
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from functions.notifications.chalicelib.sending.provider import Provider

from notifications_helpers import JWT


@pytest.fixture
def fresh_emulator(emulator_server):
    emulator_server.reset()
    emulator_server.configure(latency=0, failure_rate=0, hang_rate=0, hang_seconds=30, fail_status=500, seed=1)
    return emulator_server


@pytest.mark.parametrize("status, retry", [(429, True), (408, True), (500, True), (503, True),
                                           (400, False), (401, False), (404, False)])
def test_statuses_worth_another_attempt(fresh_emulator, status, retry):
    fresh_emulator.configure(fail_next=1, fail_status=status)
    outcome = Provider(fresh_emulator.url, JWT, 2, 2).send(7, 79161234567, "hi")
    assert (outcome.ok, outcome.retry) == (False, retry)
    assert f"HTTP {status}" in outcome.reason
    assert fresh_emulator.requests[-1]["status"] == status


def test_a_network_error_is_retried():
    # Bound but never listening: the connection is refused, and nobody else can take the port meanwhile.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        outcome = Provider(f"http://127.0.0.1:{sock.getsockname()[1]}", JWT, 2, 2).send(7, 79161234567, "hi")
    assert (outcome.ok, outcome.retry) == (False, True)
    assert outcome.reason == "provider unreachable: ConnectionError"


class _Scripted:
    """A real HTTP server that answers every POST with one fixed status, content type and body."""

    def __init__(self, status, body, content_type="application/json"):
        answer = (status, body.encode(), content_type)

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(answer[0])
                self.send_header("Content-Type", answer[2])
                self.send_header("Content-Length", str(len(answer[1])))
                self.end_headers()
                self.wfile.write(answer[1])
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.mark.parametrize("body, content_type", [("<html>maintenance</html>", "text/html"), ("", "application/json"),
                                                ('{"code": 0', "application/json")])
def test_a_200_without_json_is_retried(body, content_type):
    with _Scripted(200, body, content_type) as server:
        outcome = Provider(server.url, JWT, 2, 2).send(7, 79161234567, "hi")
    assert (outcome.ok, outcome.retry, outcome.reason) == (False, True, "provider answered 200 without JSON")


@pytest.mark.parametrize("body", ['{"code": 3, "message": "blocked"}', '{"message": "no code"}', '[0]', '"OK"'])
def test_a_200_with_a_code_other_than_0_is_a_final_refusal(body):
    with _Scripted(200, body) as server:
        outcome = Provider(server.url, JWT, 2, 2).send(7, 79161234567, "hi")
    assert (outcome.ok, outcome.retry) == (False, False)
    assert outcome.reason.startswith("provider refused: ")


def test_a_200_with_code_0_is_delivered():
    with _Scripted(200, '{"code": 0, "message": "OK"}') as server:
        outcome = Provider(server.url, JWT, 2, 2).send(7, 79161234567, "hi")
    assert (outcome.ok, outcome.retry, outcome.reason) == (True, False, "OK")
