"""Reading imported messages for pages and the JSON API, and attachment downloads."""
from common import rows
from common.db import pg_transaction

from .. import queries
from ..engine import attachment_store
from ..mime import message_rows

MAX_PAGE = 1000
BIG = 2 ** 62


def newest(account_id, before=None, limit=MAX_PAGE):
    """Page rows, newest first, with ids below `before`."""
    with pg_transaction() as cur:
        cur.execute(queries.MESSAGES_BEFORE, {"account": account_id, "before": before or BIG,
                                              "limit": min(limit, MAX_PAGE), "snippet": message_rows.SNIPPET})
        return [message_rows.page_row(r) for r in rows.all(cur)]


def after(account_id, after_id, limit=MAX_PAGE):
    """Page rows, oldest first, with ids above `after_id` (catching up)."""
    with pg_transaction() as cur:
        cur.execute(queries.MESSAGES_AFTER, {"account": account_id, "after": after_id,
                                             "limit": min(limit, MAX_PAGE), "snippet": message_rows.SNIPPET})
        return [message_rows.page_row(r) for r in rows.all(cur)]


def stats(account_id):
    """(number of messages, highest message id) of an account."""
    with pg_transaction() as cur:
        cur.execute(queries.MESSAGE_STATS, (account_id,))
        count, latest = cur.fetchone()
        return count, latest


def attachment(account_id, attachment_id):
    """(filename, content type, bytes) of an attachment of this account's messages, or None."""
    with pg_transaction() as cur:
        cur.execute(queries.ATTACHMENT, (attachment_id, account_id))
        row = cur.fetchone()
    if row is None:
        return None
    filename, content_type, _size, key = row
    return filename, content_type, attachment_store.get(key)
