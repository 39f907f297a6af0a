"""The bodies of notifications' queue messages, built and read here only.

- StartMailing {"mailing_id"}: the dispatch queue (an immediate start) and the one-off schedule's input.
- SendMessage {"message_id", "mailing_id", "client_id"}: the send queue, one per message (the ids beside the
  message's own are for the logs; the sender reads everything else from the database).
A body that cannot be read raises BadMessage; the handlers drop it with a warning (sending it again
would not make it readable).
"""
import json
from dataclasses import dataclass
from typing import Optional

from common import queue


BadMessage = queue.BadMessage   # the one error of every product's queue_messages


def _fields(text, required, optional=()):
    value = queue.decode(text)
    out = {}
    for name in required + optional:
        raw = value.get(name)
        if raw is None and name in optional:
            out[name] = None
            continue
        if isinstance(raw, bool) or not isinstance(raw, (int, str)):
            raise BadMessage(f"{name} is missing or not a number")
        try:
            number = int(raw)
        except ValueError:
            raise BadMessage(f"{name} is not a number") from None
        if number <= 0:
            raise BadMessage(f"{name} is not a positive id")
        out[name] = number
    return out


def _text(value):
    return json.dumps(value)


@dataclass(frozen=True)
class StartMailing:
    mailing_id: int

    def body(self):
        return _text({"mailing_id": self.mailing_id})

    @classmethod
    def parse(cls, text):
        return cls(**_fields(text, ("mailing_id",)))


@dataclass(frozen=True)
class SendMessage:
    message_id: int
    mailing_id: Optional[int] = None
    client_id: Optional[int] = None

    def body(self):
        return _text({"message_id": self.message_id, "mailing_id": self.mailing_id, "client_id": self.client_id})

    @classmethod
    def parse(cls, text):
        return cls(**_fields(text, ("message_id",), ("mailing_id", "client_id")))
