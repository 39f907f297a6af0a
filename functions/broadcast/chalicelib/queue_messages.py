"""The send queue's messages, built and read only here (common.queue carries their text).

- a fan-out job {"broadcast": id, "ids": [low, high]}: queue one message per recipient in that id range;
- a send {"recipient": id}: send that recipient's text;
- a pacing tick {"pace": broadcast id, "nonce": "..."}: a one-at-a-time broadcast's next messages (fanout.tick).
A body that is none of them raises BadMessage (the worker logs and drops it).
"""
import json
from dataclasses import dataclass

from common import queue


BadMessage = queue.BadMessage   # the one error of every product's queue_messages


@dataclass(frozen=True)
class FanoutJob:
    broadcast_id: int
    low: int
    high: int

    def body(self):
        return json.dumps({"broadcast": self.broadcast_id, "ids": [self.low, self.high]})


@dataclass(frozen=True)
class Send:
    recipient_id: int

    def body(self):
        return json.dumps({"recipient": self.recipient_id})


@dataclass(frozen=True)
class PaceTick:
    broadcast_id: int
    nonce: str

    def body(self):
        return json.dumps({"pace": self.broadcast_id, "nonce": self.nonce})


def parse(text):
    """FanoutJob, Send or PaceTick; BadMessage for anything else."""
    value = queue.decode(text)
    ids = value.get("ids")
    if _is_id(value.get("broadcast")) and isinstance(ids, list) and len(ids) == 2 and all(map(_is_id, ids)):
        return FanoutJob(value["broadcast"], ids[0], ids[1])
    if _is_id(value.get("recipient")):
        return Send(value["recipient"])
    nonce = value.get("nonce")
    if _is_id(value.get("pace")) and isinstance(nonce, str) and 0 < len(nonce) <= 64:
        return PaceTick(value["pace"], nonce)
    raise BadMessage("neither a fan-out job, a send nor a pacing tick")


def _is_id(value):
    return isinstance(value, int) and not isinstance(value, bool)
