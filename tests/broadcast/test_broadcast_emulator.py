"""The ChatApp emulator itself: real HTTP, tokens, failure injection, request log, status callbacks."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from broadcast_helpers import wait_for


def _tokens(emu):
    resp = requests.post(emu.url + "/v1/tokens", json={"email": "operator@example.com",
                                                       "password": "emulator-password", "appId": "app_emulator"})
    assert resp.status_code == 200 and resp.json()["success"] is True
    return resp.json()["data"]


def test_tokens_refresh_and_invalid_token_errors(emulator):
    bad = requests.post(emulator.url + "/v1/tokens", json={"email": "x@y", "password": "no", "appId": "app_emulator"})
    assert bad.status_code == 401 and bad.json()["success"] is False
    data = _tokens(emulator)
    assert set(data) >= {"accessToken", "accessTokenEndTime", "refreshToken", "refreshTokenEndTime"}
    ok = requests.get(emulator.url + "/v1/licenses", headers={"Authorization": data["accessToken"]})
    assert ok.json()["data"][0]["licenseId"] == 100001
    nope = requests.get(emulator.url + "/v1/licenses", headers={"Authorization": "wrong"})
    assert nope.status_code == 401 and nope.json()["error"]["code"] == "ApiInvalidTokenError"
    fresh = requests.post(emulator.url + "/v1/tokens/refresh", headers={"Refresh": data["refreshToken"]})
    assert fresh.status_code == 200 and fresh.json()["data"]["accessToken"] != data["accessToken"]
    again = requests.post(emulator.url + "/v1/tokens/refresh", headers={"Refresh": data["refreshToken"]})
    assert again.status_code == 401      # refresh tokens rotate: a used one is dead
    assert [r["path"] for r in emulator.requests][:2] == ["/v1/tokens", "/v1/tokens"]


def test_send_validates_phone_and_injected_failures(emulator):
    token = _tokens(emulator)["accessToken"]
    path = emulator.url + "/v1/licenses/100001/messengers/grWhatsApp/chats/{}/messages/text"
    ok = requests.post(path.format("79991234567"), json={"text": "hi"}, headers={"Authorization": token})
    assert ok.json()["data"]["chatId"] == "79991234567@c.us" and ok.json()["data"]["id"]
    bad = requests.post(path.format("12ab"), json={"text": "hi"}, headers={"Authorization": token})
    assert bad.status_code == 400
    requests.post(emulator.url + "/_emulator/fail", json={"next": 1, "status": 503, "code": "Down", "message": "x"})
    down = requests.post(path.format("79991234567"), json={"text": "hi"}, headers={"Authorization": token})
    assert down.status_code == 503 and down.json()["error"]["code"] == "Down"
    assert requests.post(path.format("79991234567"), json={"text": "hi"},
                         headers={"Authorization": token}).status_code == 200
    assert len(requests.get(emulator.url + "/_emulator/requests").json()) == len(emulator.requests) == 5


def test_status_callbacks_are_posted_in_order(emulator):
    received = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        emulator.configure(webhook_delays=(0.05, 0.1, 0.15))
        token = _tokens(emulator)["accessToken"]
        base = emulator.url + "/v1/licenses/100001/messengers/grWhatsApp"
        requests.put(base + "/callbackUrl", headers={"Authorization": token},
                     json={"events": ["messageStatus"], "url": f"http://127.0.0.1:{server.server_port}/hook"})
        sent = requests.post(base + "/chats/79991234567/messages/text", json={"text": "hi"},
                             headers={"Authorization": token}).json()["data"]
        wait_for(lambda: len(received) >= 3, 5, what="three callbacks")
        events = [e for payload in received for e in payload["data"]]
        assert [e["type"] for e in events] == ["sent", "delivered", "viewed"]
        assert {e["id"] for e in events} == {sent["id"]}
        assert received[0]["meta"]["type"] == "messageStatus"
    finally:
        server.shutdown()
        server.server_close()
