"""EMULATOR of the notifications provider's API for local runs and tests. Not product code.

    POST /v1/send/{msgId}   Authorization: Bearer <JWT>   {"id": <msgId>, "phone": <int>, "text": "..."}
    -> 200 {"code": 0, "message": "OK"}

The JWT must be the configured one and a well-formed, unexpired JWT. Behaviour knobs (also over HTTP):
latency, a random failure rate (HTTP 500), a random hang rate (answers only after hang_seconds, longer
than any client timeout), and deterministic "fail the next n" / "hang the next n". Each request is
logged (without its token); `deliveries(msg_id)` counts how often a message id was accepted.

Test controls (never part of the real API), under /_emulator/:
  POST /_emulator/config {"latency", "failure_rate", "hang_rate", "hang_seconds", "fail_next", "hang_next",
                          "fail_status", "seed"}
  GET  /_emulator/requests      POST /_emulator/reset

Run: python -m emulators.provider --port 4002 --jwt <token>
"""
import argparse
import hmac
import json
import random
import re
import threading
import time

import jwt as pyjwt

from emulators import serving
from emulators.serving import Served

_SEND = re.compile(r"^/v1/send/([0-9]{1,19})$")
MAX_BODY = 64 * 1024


def issue_token(key, subject="notifications", lifetime_days=3650, now=None):
    """A JWT like the one the provider issues to a customer (HS256)."""
    issued = int(now if now is not None else time.time())
    return pyjwt.encode({"sub": subject, "iat": issued, "exp": issued + lifetime_days * 86400}, key,
                        algorithm="HS256")


class ProviderEmulator(Served):
    """An EMULATED provider API on a real HTTP port."""
    thread_name = "provider-emulator"

    def __init__(self, host="127.0.0.1", port=0, token="", latency=0.0, failure_rate=0.0, hang_rate=0.0,
                 hang_seconds=30.0, seed=None):
        self.host, self.port = host, port
        self.token = token
        self.lock = threading.Lock()
        self.configure(latency=latency, failure_rate=failure_rate, hang_rate=hang_rate, hang_seconds=hang_seconds,
                       seed=seed)
        self.reset()

    def handler_class(self):
        return _handler_for(self)

    def stopping(self):
        with self.lock:
            self._stopping = True

    # ---- controls ---------------------------------------------------------------------------------
    def reset(self):
        with self.lock:
            self.requests = []
            self.accepted = {}
            self.fail_next = 0
            self.hang_next = 0
            self._stopping = False

    def configure(self, latency=None, failure_rate=None, hang_rate=None, hang_seconds=None, fail_next=None,
                  hang_next=None, fail_status=None, seed=None):
        with self.lock:
            if latency is not None:
                self.latency = float(latency)
            if failure_rate is not None:
                self.failure_rate = float(failure_rate)
            if hang_rate is not None:
                self.hang_rate = float(hang_rate)
            if hang_seconds is not None:
                self.hang_seconds = float(hang_seconds)
            if fail_next is not None:
                self.fail_next = int(fail_next)
            if hang_next is not None:
                self.hang_next = int(hang_next)
            if fail_status is not None or not hasattr(self, "fail_status"):
                self.fail_status = int(fail_status or 500)
            if seed is not None or not hasattr(self, "rng"):
                self.rng = random.Random(seed)

    def deliveries(self, msg_id):
        """How many times the message id was accepted (200 OK)."""
        with self.lock:
            return self.accepted.get(int(msg_id), 0)

    def sends(self):
        """Accepted requests, in order: [{"id", "phone", "text"}]."""
        with self.lock:
            return [r["body"] for r in self.requests if r["status"] == 200]

    # ---- the API ----------------------------------------------------------------------------------
    def authorized(self, header):
        scheme, _, token = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not token or not self.token:
            return False
        if not hmac.compare_digest(token.strip().encode(), self.token.encode()):
            return False
        try:
            pyjwt.decode(token.strip(), options={"verify_signature": False, "verify_exp": True,
                                                 "require": ["exp"]})
        except pyjwt.PyJWTError:
            return False
        return True

    def decide(self):
        """'hang', 'fail' or 'ok' for the next send, from the deterministic counters then the rates."""
        with self.lock:
            if self.hang_next > 0:
                self.hang_next -= 1
                return "hang"
            if self.fail_next > 0:
                self.fail_next -= 1
                return "fail"
            roll = self.rng.random()
            if roll < self.hang_rate:
                return "hang"
            if roll < self.hang_rate + self.failure_rate:
                return "fail"
            return "ok"

    def send(self, msg_id, authorization, raw):
        """(status, body) of a send; records the request."""
        # Logged on arrival (status None until answered), so a hung call shows while it hangs.
        entry = {"msg_id": int(msg_id), "at": time.time(), "status": None, "body": None}
        with self.lock:
            self.requests.append(entry)
        if not self.authorized(authorization):
            return self._log(entry, 401, {"code": 401, "message": "Invalid or missing JWT"})
        try:
            body = json.loads(raw)
        except ValueError:
            return self._log(entry, 400, {"code": 400, "message": "Body is not JSON"})
        entry["body"] = body
        if (not isinstance(body, dict) or body.get("id") != int(msg_id) or not isinstance(body.get("phone"), int)
                or isinstance(body.get("phone"), bool) or not isinstance(body.get("text"), str)):
            return self._log(entry, 400, {"code": 400, "message": "Expected {id: msgId, phone: int, text}"})
        verdict = self.decide()
        if self.latency:
            time.sleep(self.latency)
        if verdict == "hang":
            self._sleep(self.hang_seconds)
            return self._log(entry, 504, {"code": 504, "message": "Emulated hang"})
        if verdict == "fail":
            return self._log(entry, self.fail_status, {"code": self.fail_status, "message": "Emulated failure"})
        with self.lock:
            self.accepted[int(msg_id)] = self.accepted.get(int(msg_id), 0) + 1
        return self._log(entry, 200, {"code": 0, "message": "OK"})

    def _sleep(self, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self._stopping:
            time.sleep(0.05)

    def _log(self, entry, status, answer):
        with self.lock:
            entry["status"] = status
        return status, answer


def _handler_for(emulator):
    class Handler(serving.Handler):
        def do_POST(self):
            raw = self.body(MAX_BODY)
            match = _SEND.match(self.path)
            if match:
                self.reply(*emulator.send(match.group(1), self.headers.get("Authorization"), raw))
            elif self.path == "/_emulator/config":
                try:
                    emulator.configure(**json.loads(raw or b"{}"))
                except (ValueError, TypeError) as exc:
                    self.reply(400, {"code": 400, "message": str(exc)})
                    return
                self.reply(200, {"ok": True})
            elif self.path == "/_emulator/reset":
                emulator.reset()
                self.reply(200, {"ok": True})
            else:
                self.reply(404, {"code": 404, "message": "Not found"})

        def do_GET(self):
            if self.path == "/_emulator/requests":
                with emulator.lock:
                    self.reply(200, list(emulator.requests))
            else:
                self.reply(404, {"code": 404, "message": "Not found"})

    return Handler


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m emulators.provider")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4002)
    parser.add_argument("--jwt", required=True, help="the token the product sends (NotificationsProviderJwt)")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--failure-rate", type=float, default=0.0)
    parser.add_argument("--hang-rate", type=float, default=0.0)
    args = parser.parse_args(argv)
    serving.serve_until_interrupted(ProviderEmulator(
        args.host, args.port, token=args.jwt, latency=args.latency, failure_rate=args.failure_rate,
        hang_rate=args.hang_rate), "provider emulator")


if __name__ == "__main__":
    main()
