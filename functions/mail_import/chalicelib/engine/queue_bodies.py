"""The bodies of mail_import's own queue messages (import chunks, indexing requests)."""
import json

from common.log import get_logger

log = get_logger(__name__)


def whole_numbers(body, *names, kind):
    """The named whole-number fields of a JSON message body, in order; None when the body is malformed (logged:
    a message that can never be read is dropped, not redelivered until the DLQ)."""
    try:
        message = json.loads(body)
        return tuple(int(message[name]) for name in names)
    except (ValueError, KeyError, TypeError):
        log.warning("dropping a malformed %s: %.200s", kind, body)
        return None
