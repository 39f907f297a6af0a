"""mail_import's queue messages, built and read here only.

- an import chunk {"job": id, "seq": n} (MailImportQueue, and its dead-letter queue): run chunk n of a job;
- a deletion {"delete_account": id} (MailImportQueue too): delete the account with everything it holds;
- an indexing request {"account": id, "from": message id} (MailImportIndexQueue): index the account's
  messages from that id on.
"""
import json
from dataclasses import dataclass

from common import queue

# A body that is not the message its queue carries (unusable: logged and dropped, or kept for the operator);
# the one error of every product's queue_messages.
BadMessage = queue.BadMessage


@dataclass(frozen=True)
class Chunk:
    job_id: int
    seq: int

    def body(self):
        return json.dumps({"job": self.job_id, "seq": self.seq})

    @classmethod
    def parse(cls, text):
        return cls(*_whole_numbers(text, "job", "seq"))


@dataclass(frozen=True)
class IndexRequest:
    account_id: int
    from_id: int

    def body(self):
        return json.dumps({"account": self.account_id, "from": self.from_id})

    @classmethod
    def parse(cls, text):
        return cls(*_whole_numbers(text, "account", "from"))


@dataclass(frozen=True)
class Deletion:
    account_id: int

    def body(self):
        return json.dumps({"delete_account": self.account_id})

    @classmethod
    def parse(cls, text):
        return cls(*_whole_numbers(text, "delete_account"))


def import_queue(text):
    """A message of the import queue: Chunk or Deletion (BadMessage for anything else)."""
    try:
        return Deletion.parse(text)
    except BadMessage:
        return Chunk.parse(text)


def _whole_numbers(text, *names):
    try:
        message = json.loads(text)
        return tuple(int(message[name]) for name in names)
    except (ValueError, KeyError, TypeError) as exc:
        raise BadMessage(f"not a message with {', '.join(names)}: {str(text)[:200]}") from exc
