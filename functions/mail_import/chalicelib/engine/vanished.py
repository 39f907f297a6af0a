"""Messages that disappeared from the server (deleted or moved away): marked gone here, never deleted.

Cheap by construction: SELECT already told how many messages the folder holds. If that equals the
messages stored for it (not yet marked gone) plus the new UIDs the sync found, nothing vanished and no
command is sent. Only when the counts differ does one UID SEARCH ALL list the folder, and the stored UIDs
missing from it are marked.
"""
from common.db import pg_transaction

from .. import queries


def nothing_vanished(exists, present, new):
    """True when the folder's message count is fully explained by stored and new messages."""
    return exists == present + new


def gone(stored_uids, server_uids):
    """Stored UIDs the server no longer lists, ascending."""
    return sorted(set(stored_uids) - set(server_uids))


def present_count(account_id, folder, uidvalidity, last_uid):
    with pg_transaction() as cur:
        cur.execute(queries.PRESENT_COUNT, (account_id, folder, uidvalidity, last_uid))
        return cur.fetchone()[0]


def check(session, account_id, info, last_uid, new_uids):
    """Mark the folder's vanished messages; returns how many were marked."""
    present = present_count(account_id, info.name, info.uidvalidity, last_uid)
    if nothing_vanished(info.exists, present, len(new_uids)):
        return 0
    server = session.all_uids()
    with pg_transaction() as cur:
        cur.execute(queries.PRESENT_UIDS, (account_id, info.name, info.uidvalidity, last_uid))
        missing = gone([row[0] for row in cur.fetchall()], server)
        if missing:
            cur.execute(queries.MARK_GONE, (account_id, info.name, info.uidvalidity, missing))
    return len(missing)
