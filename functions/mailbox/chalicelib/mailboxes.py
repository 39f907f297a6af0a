"""Creating mailboxes and (re)issuing their API keys; only a key's digest is ever stored."""
from common.passwords import api_key_digest, new_api_key

from . import queries
from .validation import normalize_address


class MailboxExists(Exception):
    """A mailbox with that address already exists."""


class NoSuchMailbox(Exception):
    """No mailbox has that address."""


def create(cur, address):
    """Create a mailbox; returns (address, api_key). The key is not recoverable later."""
    address = normalize_address(address)
    key = new_api_key()
    cur.execute(queries.CREATE_MAILBOX, (address, api_key_digest(key)))
    if cur.fetchone() is None:
        raise MailboxExists(address)
    return address, key


def rotate_key(cur, address):
    """Replace a mailbox's API key (the old one stops working); returns the new key."""
    address = normalize_address(address)
    key = new_api_key()
    cur.execute(queries.SET_KEY_DIGEST, (api_key_digest(key), address))
    if cur.fetchone() is None:
        raise NoSuchMailbox(address)
    return key
