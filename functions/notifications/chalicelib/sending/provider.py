"""The provider's API: POST {base}/v1/send/{msgId} with a Bearer JWT. The JWT never reaches a log."""
import time
from dataclasses import dataclass

import requests


@dataclass(frozen=True)
class Outcome:
    """ok: delivered to the provider. retry: worth another attempt (timeout, 5xx, 429, network).
    Otherwise a final refusal. reason: for last_error (never carries the token)."""
    ok: bool
    retry: bool
    reason: str
    milliseconds: float


class Provider:
    def __init__(self, base_url, jwt, connect_timeout, read_timeout, session=None):
        self.base_url = base_url.rstrip("/")
        self._jwt = jwt
        self.timeout = (connect_timeout, read_timeout)
        self.session = session or requests.Session()

    def __repr__(self):  # the token must not show up in a traceback or a debug line
        return f"Provider({self.base_url!r})"

    def send(self, message_id, phone, text):
        started = time.monotonic()
        try:
            answer = self.session.post(f"{self.base_url}/v1/send/{int(message_id)}",
                                       json={"id": int(message_id), "phone": int(phone), "text": text},
                                       headers={"Authorization": f"Bearer {self._jwt}"}, timeout=self.timeout,
                                       allow_redirects=False)
        except requests.Timeout:
            return Outcome(False, True, "provider timed out", _ms(started))
        except requests.RequestException as exc:
            return Outcome(False, True, f"provider unreachable: {type(exc).__name__}", _ms(started))
        elapsed = _ms(started)
        if answer.status_code == 200:
            try:
                body = answer.json()
            except ValueError:
                return Outcome(False, True, "provider answered 200 without JSON", elapsed)
            if isinstance(body, dict) and body.get("code") == 0:
                return Outcome(True, False, "OK", elapsed)
            return Outcome(False, False, f"provider refused: {_short(body)}", elapsed)
        retry = answer.status_code >= 500 or answer.status_code in (408, 429)
        return Outcome(False, retry, f"provider HTTP {answer.status_code}: {_short(answer.text)}", elapsed)


def _ms(started):
    return (time.monotonic() - started) * 1000


def _short(value, limit=200):
    return str(value)[:limit]
