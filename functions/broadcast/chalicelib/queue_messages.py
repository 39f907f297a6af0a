"""The send queue's two kinds of message, built and recognised in one place.

- a fan-out job {"broadcast": id, "ids": [low, high]}: queue one message per recipient in that id range;
- a send {"recipient": id}: send that recipient's text.
"""
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class FanoutJob:
    broadcast_id: int
    low: int
    high: int


@dataclass(frozen=True)
class Send:
    recipient_id: int


def fanout_job(broadcast_id, low, high):
    """The body of a fan-out job message."""
    return json.dumps({"broadcast": broadcast_id, "ids": [low, high]})


def send(recipient_id):
    """The body of a per-recipient send message."""
    return json.dumps({"recipient": recipient_id})


def parse(body):
    """FanoutJob, Send, or None for a body that is neither (unusable: to be logged and dropped)."""
    try:
        value = json.loads(body)
    except (TypeError, ValueError):
        return None
    if not isinstance(value, dict):
        return None
    ids = value.get("ids")
    if _is_id(value.get("broadcast")) and isinstance(ids, list) and len(ids) == 2 and all(map(_is_id, ids)):
        return FanoutJob(value["broadcast"], ids[0], ids[1])
    if _is_id(value.get("recipient")):
        return Send(value["recipient"])
    return None


def _is_id(value):
    return isinstance(value, int) and not isinstance(value, bool)
