"""What the API's routes do, each call one transaction (opened here, never in app.py) around the steps of
letters, which take the caller's cursor. `me` is the Mailbox the access middleware authenticated."""
from common import db

from . import letters


def send(me, letter):
    """Send a validated NewLetter; returns the sender's copy."""
    with db.pg_transaction() as cur:
        return letters.send(cur, me, letter)


def folder_page(me, folder, page):
    """A page of one of the caller's folders."""
    with db.pg_transaction() as cur:
        return letters.list_folder(cur, me.id, folder, page)


def letter(me, copy_id):
    """One of the caller's letters in full."""
    with db.pg_transaction() as cur:
        return letters.get(cur, me.id, copy_id)


def mark(me, copy_id, read):
    """Flag one of the caller's letters read or unread; returns it."""
    with db.pg_transaction() as cur:
        return letters.set_read(cur, me.id, copy_id, read)


def delete(me, copy_id):
    """Remove one of the caller's letters."""
    with db.pg_transaction() as cur:
        letters.delete(cur, me.id, copy_id)


def profile(me):
    """The caller's address and inbox unread count."""
    with db.pg_transaction() as cur:
        return {"address": me.address, "unread": letters.unread_count(cur, me.id, "inbox")}
