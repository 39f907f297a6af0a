"""code_check's queue messages, built and read here only.

- Report {"check_id": n} on the reports queue: e-mail that check's report (reports/notifier.py);
- DeleteAccount {"delete_account": n} on the deletions queue: delete that account (accounts/deletion.py).
"""
import json
from dataclasses import dataclass

from common import queue

BadMessage = queue.BadMessage   # the one error of every product's queue_messages


def _id(value, name):
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise BadMessage(f"{name} is not an id")
    return value


@dataclass(frozen=True)
class Report:
    check_id: int

    def body(self):
        return json.dumps({"check_id": self.check_id})


@dataclass(frozen=True)
class DeleteAccount:
    user_id: int

    def body(self):
        return json.dumps({"delete_account": self.user_id})


def parse(text):
    """The message in a body; BadMessage for anything else."""
    value = queue.decode(text)
    if "check_id" in value:
        # Bodies queued before this module wrote the id as it is; text digits are read too.
        check_id = value["check_id"]
        if isinstance(check_id, str) and check_id.isdigit():
            check_id = int(check_id)
        return Report(_id(check_id, "check_id"))
    if "delete_account" in value:
        return DeleteAccount(_id(value["delete_account"], "delete_account"))
    raise BadMessage("unknown message")
