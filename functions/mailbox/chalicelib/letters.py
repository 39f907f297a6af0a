"""Sending, listing, reading, flagging and deleting letters, given an open database cursor.

Every function runs inside the caller's transaction (common.db.pg_transaction), so a failure
anywhere leaves nothing behind. Letters are addressed by the id of the caller's own copy.
"""
from datetime import timezone

from common import rows
from common.web import AppError, not_found

from . import pagination, queries

SNIPPET_CHARS = 160
# The first page starts above every real position.
_TOP = ("infinity", 2 ** 63 - 1)


def send(cur, sender, letter):
    """Store a NewLetter once, in the sender's sent folder and each recipient's inbox; returns the sent copy.

    sender is the authenticated Mailbox (id, address).
    """
    cur.execute(queries.MAILBOXES_BY_ADDRESSES, (list(letter.to),))
    ids = {row["address"]: row["id"] for row in rows.all(cur)}
    unknown = [address for address in letter.to if address not in ids]
    if unknown:
        raise AppError(422, "unknown recipients: " + ", ".join(unknown), unknown=unknown)
    cur.execute(queries.INSERT_LETTER, (sender.id, list(letter.to), letter.subject, letter.body))
    letter_id, created_at = cur.fetchone()
    cur.execute(queries.INSERT_SENT_COPY, (sender.id, letter_id, created_at))
    copy_id = cur.fetchone()[0]
    recipients = [ids[address] for address in letter.to]
    cur.execute(queries.INSERT_INBOX_COPIES, {"letter": letter_id, "created_at": created_at,
                                              "recipients": recipients})
    cur.execute(queries.ADD_INBOX_UNREAD, {"recipients": recipients})
    return {"id": copy_id, "folder": "sent", "from": sender.address, "to": list(letter.to),
            "subject": letter.subject, "read": True, "created_at": timestamp(created_at), "body": letter.body}


def list_folder(cur, mailbox_id, folder, page):
    """A page of a folder, newest first: {folder, letters, unread, next_cursor}."""
    after_created_at, after_id = page.after or _TOP
    statement = queries.LIST_FOLDER_UNREAD if page.unread_only else queries.LIST_FOLDER
    # One row more than asked tells whether another page exists without a count.
    cur.execute(statement, {"mailbox": mailbox_id, "folder": folder, "after_created_at": after_created_at,
                            "after_id": after_id, "limit": page.limit + 1, "snippet": SNIPPET_CHARS})
    found = rows.all(cur)
    more, found = len(found) > page.limit, found[:page.limit]
    unread = unread_count(cur, mailbox_id, folder)
    next_cursor = pagination.encode(found[-1]["created_at"], found[-1]["id"]) if more else None
    return {"folder": folder, "letters": [_summary(row) for row in found], "unread": unread,
            "next_cursor": next_cursor}


def unread_count(cur, mailbox_id, folder):
    """How many letters of the folder are unread (a counter kept by every change, not a count)."""
    cur.execute(queries.UNREAD_COUNT, (mailbox_id, folder))
    row = cur.fetchone()
    return row[0] if row else 0


def get(cur, mailbox_id, copy_id):
    """One letter in full, if the copy belongs to mailbox_id."""
    cur.execute(queries.GET_LETTER, {"id": copy_id, "mailbox": mailbox_id})
    row = rows.one(cur)
    if row is None:
        raise not_found("letter not found")
    letter = _fields(row)
    letter["body"] = row["body"]
    return letter


def set_read(cur, mailbox_id, copy_id, read):
    """Mark the caller's copy read or unread; returns the letter."""
    cur.execute(queries.SET_READ, {"id": copy_id, "mailbox": mailbox_id, "read": read})
    changed = cur.fetchone()
    if changed is not None:
        cur.execute(queries.DECREMENT_UNREAD if read else queries.INCREMENT_UNREAD, (mailbox_id, changed[0]))
    return get(cur, mailbox_id, copy_id)     # 404 if the copy is not the caller's


def delete(cur, mailbox_id, copy_id):
    """Remove the caller's copy; the content goes too once no mailbox holds a copy of it."""
    cur.execute(queries.LOCK_LETTER_OF_COPY, {"id": copy_id, "mailbox": mailbox_id})
    row = cur.fetchone()
    if row is None:
        raise not_found("letter not found")
    cur.execute(queries.DELETE_COPY, {"id": copy_id, "mailbox": mailbox_id})
    gone = cur.fetchone()
    if gone is None:        # deleted meanwhile by the same owner (another device) while we waited for the lock
        raise not_found("letter not found")
    folder, was_read = gone
    if not was_read:
        cur.execute(queries.DECREMENT_UNREAD, (mailbox_id, folder))
    cur.execute(queries.DELETE_LETTER_IF_UNREFERENCED, {"letter": row[0]})


def timestamp(value):
    """ISO 8601 in UTC with microseconds, e.g. 2024-05-01T12:00:00.000001Z."""
    return value.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _fields(row):
    return {"id": row["id"], "folder": row["folder"], "from": row["sender"], "to": list(row["recipients"]),
            "subject": row["subject"], "read": row["is_read"], "created_at": timestamp(row["created_at"])}


def _summary(row):
    letter = _fields(row)
    letter["snippet"] = " ".join(row["snippet"].split())
    return letter
