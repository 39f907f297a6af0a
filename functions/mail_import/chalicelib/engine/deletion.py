"""Deleting an account with everything it holds: its messages, their search rows and attachments (the S3 objects
under the account's own prefix: packs are per account, so no other account shares them), the stored password,
the sync schedule, the jobs, tokens and folders.

request() marks the account in one transaction (from then on no route opens it, the password and the schedule
are gone) and queues a Deletion; run() does the rest in steps that can all run again: a running import is asked
to stop first (the deletion waits for its chunk to let go), then the S3 objects, then the messages in bounded
batches, each its own transaction, then the account row. A deletion killed half-way goes on when its message
comes back; one whose message was lost is queued again by the sync schedule (requeue_stalled).
"""
import time

from common import aws, batch, queue, rows
from common.db import pg_transaction
from common.log import get_logger

from .. import queries, queue_messages, settings
from . import attachment_store, job_records

log = get_logger(__name__)
MESSAGE_BATCH = 2000        # messages deleted per transaction
S3_BATCH = 1000             # keys per DeleteObjects (S3's limit)
WAIT_FOR_IMPORT = 5         # seconds before a deletion looks again at an import that has not stopped yet
STALLED_SECONDS = 600       # a deletion this old without finishing lost its message (the schedule queues it again)


def request(account_id):
    """Mark the account for deletion and queue it: {"login", "messages", "attachments"} (what goes), or None
    when the account is already being deleted or gone. A failed send leaves it to the sync schedule."""
    with pg_transaction() as cur:
        cur.execute(queries.DELETION_SUMMARY, (account_id,))
        summary = rows.one(cur)
        if summary is None:
            return None
        cur.execute(queries.MARK_DELETING, (account_id,))
    job_records.cancel(account_id)
    try:
        send(account_id)
    except queue.SendError:
        log.exception("could not queue a deletion; the sync schedule queues it again", account_id=account_id)
    return summary


def send(account_id, delay=0):
    queue.send(settings.load().queue_url, queue_messages.Deletion(account_id).body(), delay_seconds=delay)


def requeue_stalled(limit=100):
    """Queue again the deletions that have not finished long after they were asked for; how many."""
    with pg_transaction() as cur:
        cur.execute(queries.STALLED_DELETIONS, {"seconds": STALLED_SECONDS, "limit": limit})
        stalled = [row[0] for row in cur.fetchall()]
    for account_id in stalled:
        send(account_id)
    return len(stalled)


def run(account_id, deadline):
    """Delete what is left of a marked account; True when it is gone, False when the time ran out (the caller
    queues it again). batch.Retry while its import is still running."""
    with pg_transaction() as cur:
        cur.execute(queries.DELETING_ACCOUNT, (account_id,))
        marked = cur.fetchone()
    if marked is None:
        return True                      # deleted already: a message delivered again
    if not marked[0]:
        log.warning("a deletion for an account nobody asked to delete", account_id=account_id)
        return True
    job_records.cancel(account_id)
    active = job_records.active_job(account_id)
    if active is not None:
        raise batch.Retry(f"account {account_id}: its import has not stopped yet", delay=WAIT_FOR_IMPORT)
    delete_objects(account_id)
    while True:
        with pg_transaction() as cur:
            cur.execute(queries.DELETE_MESSAGES, {"account": account_id, "limit": MESSAGE_BATCH})
            deleted = cur.rowcount
        if deleted < MESSAGE_BATCH:
            break
        if time.monotonic() >= deadline:
            return False
    with pg_transaction() as cur:
        cur.execute(queries.DELETE_ACCOUNT, (account_id,))
    log.info("account deleted", account_id=account_id)
    return True


def delete_objects(account_id):
    """Every S3 object of the account: the packs under its prefix, then any whole object an older import stored
    (named by its attachment rows, which stay until the messages go: a deletion run again finds them again)."""
    s3, bucket = aws.client("s3"), attachment_store.bucket()
    prefix = f"attachments/{account_id}/"
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        _delete_keys(s3, bucket, [item["Key"] for item in page.get("Contents", [])])
    with pg_transaction() as cur:
        cur.execute(queries.WHOLE_OBJECT_KEYS, (account_id,))
        whole = [row[0] for row in cur.fetchall()]
    _delete_keys(s3, bucket, whole)


def _delete_keys(s3, bucket, keys):
    for start in range(0, len(keys), S3_BATCH):
        answer = s3.delete_objects(Bucket=bucket, Delete={"Quiet": True, "Objects": [
            {"Key": key} for key in keys[start:start + S3_BATCH]]})
        if answer.get("Errors"):
            # Raised: the message comes back and the deletion runs again from its start.
            raise RuntimeError(f"S3 kept {len(answer['Errors'])} object(s): {answer['Errors'][0].get('Code')}")
