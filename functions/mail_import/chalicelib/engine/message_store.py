"""Writes an imported batch: rows, attachment rows, the folder checkpoint and job progress, in one transaction."""
from psycopg2.extras import execute_values

from common.db import pg_transaction

from .. import queries
from ..mime import message_rows
from .failures import FolderChanged, LeaseLost


def commit_batch(job, owner, folder, uidvalidity, records, last_uid, remaining):
    """Store records and move the checkpoint to last_uid atomically; returns the page rows of new messages.

    A redelivered batch stores nothing twice: rows already there (same UID or same Message-ID) are skipped.
    """
    account_id = job["account_id"]
    with pg_transaction() as cur:
        # Losing the last commits in a database crash only means fetching them again: the checkpoint
        # is lost with the message_rows. So don't wait for the WAL flush on every batch.
        cur.execute(queries.SYNCHRONOUS_COMMIT_OFF)
        inserted = {}
        if records:
            # What execute_values would send, with the rows the fetch processes have already quoted.
            rows = [rec.get("quoted") or quote(cur, account_id, folder, uidvalidity, rec) for rec in records]
            head, tail = queries.INSERT_MESSAGES.encode().split(b"%s")
            cur.execute(head + b",".join(rows) + tail)
            for pk, uid in cur.fetchall():
                inserted[uid] = pk
        new = [rec for rec in records if rec["uid"] in inserted]
        attachment_ids = _insert_attachments(cur, new, inserted)
        cur.execute(queries.ADVANCE_FOLDER, {"last_uid": last_uid, "account": account_id, "folder": folder,
                                             "uidvalidity": uidvalidity})
        if cur.rowcount != 1:
            raise FolderChanged(f"checkpoint of {folder} no longer matches UIDVALIDITY {uidvalidity}")
        cur.execute(queries.RECEIVE_PROGRESS, {"remaining": remaining, "imported": len(new), "job": job["id"],
                                               "owner": owner, "first_id": min(inserted.values(), default=None)})
        if cur.rowcount != 1:
            raise LeaseLost(f"job {job['id']} was taken over")
        (cancel_requested,) = cur.fetchone()
    return Stored([message_rows.record_row(inserted[rec["uid"]], folder, uidvalidity, rec,
                                           attachment_ids.get(inserted[rec["uid"]], {})) for rec in new],
                  cancel_requested)


class Stored(list):
    """The page rows of a committed batch's new messages; .cancel_requested: the person asked the job to stop."""

    def __init__(self, rows, cancel_requested=False):
        super().__init__(rows)
        self.cancel_requested = cancel_requested


def quote(cur, account_id, folder, uidvalidity, rec):
    """A record's INSERT_MESSAGES row, quoted by the driver (cursor.mogrify, as execute_values quotes it).

    The fetch processes quote their batches' rows with a connection of their own: escaping megabytes of text
    was a third of the parent's database time, and the parent's commits are the import's one serial step.
    """
    return cur.mogrify(queries.INSERT_MESSAGES_TEMPLATE,
                       message_rows.message_values(account_id, folder, uidvalidity, rec))


def _insert_attachments(cur, records, inserted):
    values = [v for rec in records for v in message_rows.attachment_values(inserted[rec["uid"]], rec)]
    ids = {}
    if values:
        for pk, message_pk, position in execute_values(cur, queries.INSERT_ATTACHMENTS, values,
                                                       page_size=len(values), fetch=True):
            ids.setdefault(message_pk, {})[position] = pk
    return ids
