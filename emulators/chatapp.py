"""EMULATOR of the ChatApp API (api.chatapp.online) for local runs and tests. Not product code.

Speaks the subset of the API the broadcast product uses, over real HTTP: tokens (obtain, refresh,
check), licenses, the WhatsApp text send and the messageStatus callback URL. After each send it
POSTs batched status callbacks (sent, delivered, viewed) to the registered URL.

Test controls (never part of the real API), under /_emulator/:
  POST   /_emulator/fail     {"phone": "79..." | "next": n, "code", "message", "status",
                              "endpoint": "send"|"tokens"|"refresh", "via": "response"|"webhook", "times": n}
  POST   /_emulator/revoke   {"access": true, "refresh": true}   invalidate every issued token
  POST   /_emulator/config   {"access_ttl", "refresh_ttl", "webhook_delays": [s, s, s]}
  GET    /_emulator/requests (DELETE clears)   GET /_emulator/messages   GET /_emulator/webhooks
  POST   /_emulator/reset

Run: python -m emulators.chatapp  (on the port of the template's ChatAppBaseUrl default)
"""
import argparse
import heapq
import itertools
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

DEFAULT_EMAIL = "operator@example.com"
DEFAULT_PASSWORD = "emulator-password"
DEFAULT_APP_ID = "app_emulator"
DEFAULT_LICENSE_ID = "100001"
MESSENGER = "grWhatsApp"
MAX_TEXT = 4096
_SEND = re.compile(r"^/v1/licenses/([^/]+)/messengers/([^/]+)/chats/([^/]+)/messages/text$")
_CALLBACK = re.compile(r"^/v1/licenses/([^/]+)/messengers/([^/]+)/callbackUrl$")
_PHONE = re.compile(r"^[1-9]\d{6,14}$")


class ApiError(Exception):
    """An error answer: HTTP status plus ChatApp's {"code", "message"}."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class ChatAppEmulator:
    """An EMULATED ChatApp API on a real HTTP port; tests read .requests, .messages, .webhooks."""

    def __init__(self, host="127.0.0.1", port=0, email=DEFAULT_EMAIL, password=DEFAULT_PASSWORD,
                 app_id=DEFAULT_APP_ID, license_ids=(DEFAULT_LICENSE_ID,), users=None,
                 access_ttl=24 * 3600, refresh_ttl=14 * 24 * 3600, webhook_delays=(0.2, 0.4, 0.6),
                 rotate_refresh=True):
        self.host, self.port = host, port
        self.users = dict(users or {email: password})
        self.app_id = app_id
        self.license_ids = [str(x) for x in license_ids]
        self.access_ttl, self.refresh_ttl = access_ttl, refresh_ttl
        self.webhook_delays = list(webhook_delays)
        self.rotate_refresh = rotate_refresh   # a used refresh token dies, as with rotating refresh tokens
        self.lock = threading.RLock()
        self._server = None
        self._threads = []
        self._wake = threading.Condition(self.lock)
        self._stopping = False
        self.reset()

    # ---- lifecycle ---------------------------------------------------------------------------

    def start(self):
        """Listen and serve in background threads; returns self."""
        self._server = ThreadingHTTPServer((self.host, self.port), _handler_for(self))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._stopping = False
        self._threads = [threading.Thread(target=self._server.serve_forever, name="chatapp-emulator", daemon=True),
                         threading.Thread(target=self._dispatch_webhooks, name="chatapp-webhooks", daemon=True)]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self):
        """Stop serving and drop pending callbacks."""
        with self.lock:
            self._stopping = True
            self._wake.notify_all()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(5)

    @property
    def url(self):
        """Base URL, e.g. http://127.0.0.1:PORT."""
        from localcloud.http_gateway import public_host
        return f"http://{public_host(self.host)}:{self.port}"

    # ---- controls (also reachable over HTTP under /_emulator/) -------------------------------

    def reset(self):
        """Forget tokens, messages, callbacks, failures and the request log."""
        with self.lock:
            self.requests = []
            self.messages = {}
            self.webhooks = []
            self.callbacks = {}
            self.failures = []
            self.access_tokens = {}     # token -> expiry (unix)
            self.refresh_tokens = {}
            self._pending = []          # heap of (due, seq, url, license_id, event)
            self._seq = itertools.count()

    def fail(self, phone=None, next=None, code="ApiValidationError", message="Emulated failure", status=400,
             endpoint="send", via="response", times=None):
        """Make sends to `phone` (or the next `next` calls of `endpoint`) fail with this error."""
        rule = {"phone": _digits(phone) if phone else None, "left": next if next is not None else times,
                "code": code, "message": message, "status": int(status), "endpoint": endpoint, "via": via}
        with self.lock:
            self.failures.append(rule)

    def revoke(self, access=True, refresh=True):
        """Invalidate every token issued so far (as if the cabinet logged everybody out)."""
        with self.lock:
            if access:
                self.access_tokens.clear()
            if refresh:
                self.refresh_tokens.clear()

    def configure(self, access_ttl=None, refresh_ttl=None, webhook_delays=None):
        """Change token lifetimes (for tokens issued from now on) and callback delays."""
        with self.lock:
            if access_ttl is not None:
                self.access_ttl = float(access_ttl)
            if refresh_ttl is not None:
                self.refresh_ttl = float(refresh_ttl)
            if webhook_delays is not None:
                self.webhook_delays = [float(d) for d in webhook_delays]

    def calls(self, method=None, path=None, prefix=None):
        """The logged requests matching method / exact path / path prefix."""
        with self.lock:
            return [r for r in self.requests
                    if (method is None or r["method"] == method) and (path is None or r["path"] == path)
                    and (prefix is None or r["path"].startswith(prefix))]

    def sends(self):
        """The logged send-text calls."""
        with self.lock:
            return [r for r in self.requests if r["method"] == "POST" and _SEND.match(r["path"])]

    # ---- the API -----------------------------------------------------------------------------

    def handle(self, method, path, headers, body):
        """Answer one API request: (status, JSON-able body)."""
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            data = None
        with self.lock:
            self.requests.append({"method": method, "path": path, "time": time.time(), "json": data,
                                  "authorization": headers.get("Authorization"),
                                  "refresh": headers.get("Refresh")})
        try:
            if data is None:
                raise ApiError(400, "ApiValidationError", "Request body is not valid JSON")
            return 200, {"success": True, "data": self._route(method, path, headers, data)}
        except ApiError as exc:
            return exc.status, {"success": False, "error": {"code": exc.code, "message": exc.message}}

    def _route(self, method, path, headers, data):
        if (method, path) == ("POST", "/v1/tokens"):
            return self._obtain(data)
        if (method, path) == ("POST", "/v1/tokens/refresh"):
            return self._refresh(headers.get("Refresh"))
        if (method, path) == ("GET", "/v1/tokens/check"):
            return {"expiresAt": int(self._authorise(headers))}
        if (method, path) == ("GET", "/v1/licenses"):
            self._authorise(headers)
            return [{"licenseId": int(lic) if lic.isdigit() else lic, "licenseTo": int(time.time()) + 30 * 86400,
                     "status": {"id": 1, "code": "active"}, "messenger": [{"type": MESSENGER, "name": "WhatsApp"}]}
                    for lic in self.license_ids]
        match = _CALLBACK.match(path)
        if match and method == "PUT":
            self._authorise(headers)
            return self._set_callback(self._license(match.group(1), match.group(2)), data)
        match = _SEND.match(path)
        if match and method == "POST":
            self._authorise(headers)
            return self._send(self._license(match.group(1), match.group(2)), match.group(3), data)
        raise ApiError(404, "ApiNotFoundError", f"No such method: {method} {path}")

    def _obtain(self, data):
        self._inject("tokens", None)
        for field in ("email", "password", "appId"):
            if not isinstance(data.get(field), str) or not data[field]:
                raise ApiError(400, "ApiValidationError", f"{field}: required")
        if self.users.get(data["email"]) != data["password"] or data["appId"] != self.app_id:
            raise ApiError(401, "ApiAuthenticationError", "Wrong email, password or appId")
        return self._issue()

    def _refresh(self, token):
        self._inject("refresh", None)
        with self.lock:
            expiry = self.refresh_tokens.get(token or "")
            if expiry is None or expiry <= time.time():
                raise ApiError(401, "ApiInvalidTokenError", "Refresh token is invalid or expired")
            if self.rotate_refresh:
                del self.refresh_tokens[token]
        return self._issue()

    def _issue(self):
        now = time.time()
        access, refresh = "at_" + secrets.token_hex(16), "rt_" + secrets.token_hex(16)
        with self.lock:
            self.access_tokens[access] = now + self.access_ttl
            self.refresh_tokens[refresh] = now + self.refresh_ttl
            return {"cabinetUserId": 1, "accessToken": access, "accessTokenEndTime": int(now + self.access_ttl),
                    "refreshToken": refresh, "refreshTokenEndTime": int(now + self.refresh_ttl)}

    def _authorise(self, headers):
        token = headers.get("Authorization") or ""
        with self.lock:
            expiry = self.access_tokens.get(token)
        if expiry is None or expiry <= time.time():
            raise ApiError(401, "ApiInvalidTokenError", "Access token is invalid or expired")
        return expiry

    def _license(self, license_id, messenger):
        if license_id not in self.license_ids:
            raise ApiError(404, "ApiNotFoundError", f"License {license_id} not found")
        if messenger != MESSENGER:
            raise ApiError(400, "ApiValidationError", f"Messenger {messenger} is not connected to this license")
        return license_id

    def _set_callback(self, license_id, data):
        url, events = data.get("url"), data.get("events")
        if not isinstance(url, str) or urlparse(url).scheme not in ("http", "https"):
            raise ApiError(400, "ApiValidationError", "url: must be an http(s) URL")
        if not isinstance(events, list) or not events:
            raise ApiError(400, "ApiValidationError", "events: required")
        with self.lock:
            self.callbacks[license_id] = {"url": url, "events": list(events)}
        return {"url": url, "events": events}

    def _send(self, license_id, chat_id, data):
        phone = chat_id.split("@", 1)[0]
        if not _PHONE.match(phone):
            raise ApiError(400, "ApiValidationError", f"chatId: {chat_id} is not a valid phone number")
        text = data.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "ApiValidationError", "text: required")
        if len(text) > MAX_TEXT:
            raise ApiError(400, "ApiValidationError", f"text: longer than {MAX_TEXT} characters")
        webhook_error = self._inject("send", phone)
        message_id = secrets.token_hex(8).upper()
        with self.lock:
            self.messages[message_id] = {"id": message_id, "license": license_id, "phone": phone, "text": text,
                                         "time": time.time()}
            self._schedule_statuses(license_id, message_id, phone, webhook_error)
        return {"id": message_id, "chatId": f"{phone}@c.us"}

    def _inject(self, endpoint, phone):
        """Raise the first matching injected failure; a 'webhook' failure is returned for the callbacks."""
        with self.lock:
            for rule in self.failures:
                if rule["endpoint"] != endpoint or rule["left"] == 0:
                    continue
                if rule["phone"] is not None and rule["phone"] != phone:
                    continue
                if rule["left"] is not None:
                    rule["left"] -= 1
                if rule["via"] == "webhook":
                    return {"code": rule["code"], "message": rule["message"]}
                raise ApiError(rule["status"], rule["code"], rule["message"])
        return None

    # ---- status callbacks --------------------------------------------------------------------

    def _schedule_statuses(self, license_id, message_id, phone, error):
        callback = self.callbacks.get(license_id)
        if not callback or "messageStatus" not in callback["events"]:
            return
        kinds = ["sent"] if error else ["sent", "delivered", "viewed"]
        now = time.time()
        for kind, delay in zip(kinds, self.webhook_delays):
            event = {"id": message_id, "type": kind, "time": int(time.time()),
                     "chat": {"id": f"{phone}@c.us", "type": "private", "phone": phone},
                     "fromApp": True, "error": error}
            heapq.heappush(self._pending, (now + delay, next(self._seq), callback["url"], license_id, event))
        self._wake.notify_all()

    def _dispatch_webhooks(self):
        # Everything due at the same moment for one URL goes out as one batch, as ChatApp batches.
        while True:
            with self.lock:
                while not self._stopping and (not self._pending or self._pending[0][0] > time.time()):
                    timeout = self._pending[0][0] - time.time() if self._pending else None
                    self._wake.wait(timeout)
                if self._stopping:
                    return
                batches = {}
                while self._pending and self._pending[0][0] <= time.time():
                    _due, _seq, url, license_id, event = heapq.heappop(self._pending)
                    event["time"] = int(time.time())
                    batches.setdefault((url, license_id), []).append(event)
            for (url, license_id), events in batches.items():
                self._post(url, {"data": events, "meta": {"type": "messageStatus", "licenseId": license_id,
                                                          "messengerType": MESSENGER}})

    def _post(self, url, payload):
        request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:
                status = resp.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError as exc:
            status = f"error: {exc}"
        with self.lock:
            self.webhooks.append({"url": url, "payload": payload, "status": status, "time": time.time()})

    # ---- the HTTP control surface ------------------------------------------------------------

    def control(self, method, path, body):
        """Answer a /_emulator/ request: (status, JSON-able body)."""
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            return 400, {"error": "body is not JSON"}
        with self.lock:
            if (method, path) == ("GET", "/_emulator/requests"):
                return 200, list(self.requests)
            if (method, path) == ("DELETE", "/_emulator/requests"):
                self.requests.clear()
                return 200, {"ok": True}
            if (method, path) == ("GET", "/_emulator/messages"):
                return 200, list(self.messages.values())
            if (method, path) == ("GET", "/_emulator/webhooks"):
                return 200, list(self.webhooks)
        if (method, path) == ("POST", "/_emulator/fail"):
            allowed = {"phone", "next", "code", "message", "status", "endpoint", "via", "times"}
            self.fail(**{k: v for k, v in data.items() if k in allowed})
        elif (method, path) == ("POST", "/_emulator/revoke"):
            self.revoke(bool(data.get("access", True)), bool(data.get("refresh", True)))
        elif (method, path) == ("POST", "/_emulator/config"):
            self.configure(data.get("access_ttl"), data.get("refresh_ttl"), data.get("webhook_delays"))
        elif (method, path) == ("POST", "/_emulator/reset"):
            self.reset()
        else:
            return 404, {"error": f"no emulator control {method} {path}"}
        return 200, {"ok": True}


def _digits(phone):
    return re.sub(r"\D", "", str(phone))


def _handler_for(emulator):
    class Handler(BaseHTTPRequestHandler):
        server_version = "ChatAppEmulator/1.0"
        protocol_version = "HTTP/1.1"
        # Headers and body leave in two writes: with Nagle on, a keep-alive client waits ~40 ms (delayed ACK)
        # for every answer, which the real API does not cost.
        disable_nagle_algorithm = True

        def _serve(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
            path = urlparse(self.path).path
            if path.startswith("/_emulator/"):
                status, answer = emulator.control(self.command, path, body)
            else:
                status, answer = emulator.handle(self.command, path, self.headers, body)
            raw = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, *args):
            pass  # the request log is emulator.requests

    return Handler


def main(argv=None):
    """Command line entry point: serve until Ctrl-C."""
    parser = argparse.ArgumentParser(description="EMULATOR of the ChatApp API (for local runs and tests)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, help="default: the port of the template's ChatAppBaseUrl default")
    parser.add_argument("--email", default=DEFAULT_EMAIL)
    parser.add_argument("--password", default=DEFAULT_PASSWORD)
    parser.add_argument("--app-id", default=DEFAULT_APP_ID)
    parser.add_argument("--license-id", action="append", help=f"repeatable; default {DEFAULT_LICENSE_ID}")
    parser.add_argument("--access-ttl", type=float, default=24 * 3600, help="access token lifetime, seconds")
    parser.add_argument("--refresh-ttl", type=float, default=14 * 24 * 3600, help="refresh token lifetime, seconds")
    args = parser.parse_args(argv)
    if args.port is None:
        from emulators import default_port
        args.port = default_port("ChatAppBaseUrl")
    emulator = ChatAppEmulator(args.host, args.port, args.email, args.password, args.app_id,
                               args.license_id or [DEFAULT_LICENSE_ID], access_ttl=args.access_ttl,
                               refresh_ttl=args.refresh_ttl).start()
    print(f"ChatApp EMULATOR (not the real API) on {emulator.url}; controls under {emulator.url}/_emulator/",
          flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        emulator.stop()


if __name__ == "__main__":
    main()
