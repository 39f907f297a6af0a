"""Deleting an account with everything it has: every S3 object version and delete marker of its files, its
files, versions, checks, violations, tokens and sessions, and the e-mails still queued for it.

Asking (the account page, with the password) marks the account `deleting_at` in one short transaction that
also ends its sessions and tokens; from then on nothing of it is checked or e-mailed (CLAIM_VERSIONS and the
notifier skip it; report messages still queued find it gone). The work is a message on the deletions queue,
done in steps that can each be repeated: the S3 objects under the account's prefix, then one file (with its
versions, checks, violations) per transaction, the objects again (an upload that was in flight), the account's
row last. A deletion killed half-way is finished by the redelivery of its message; a message lost before it
reached the queue is sent again by the checker's tick (`sweep`). Nothing is kept: the row is gone at the end.
"""
from common import aws, db, queue
from common.log import get_logger
from common.settings import SettingError

from .. import queries, queue_messages
from . import profile

log = get_logger("code_check.deletion")
FILES_PER_BATCH = 50
S3_DELETE_BATCH = 1000          # DeleteObjects' limit
# A deletion asked this long ago and not finished gets its message again (each step is idempotent).
REQUEUE_AFTER = 900


def request(settings, me, password, address):
    """Check the password (users.FormErrors / 429 as a login), mark the account, end its sessions and tokens,
    queue its deletion. The account is gone for its owner from here, whatever happens to the message."""
    if not settings.deletions_queue_url:
        raise SettingError("CODE_CHECK_DELETIONS_QUEUE_URL is not set")
    profile.check_current_password(me, password, address)
    with db.pg_transaction() as cur:
        cur.execute(queries.MARK_DELETING, (me["id"],))
        cur.execute(queries.END_SESSIONS, (me["id"], ""))
        cur.execute(queries.DELETE_TOKENS, (me["id"],))
    log.info("account deletion asked", user_id=me["id"])
    enqueue(settings, [me["id"]])


def enqueue(settings, user_ids):
    """One message per account; returns how many went out (the others are sent again by `sweep`)."""
    failed = queue.send_all(settings.deletions_queue_url,
                            [(user_id, queue_messages.DeleteAccount(user_id).body(), 0) for user_id in user_ids])
    if failed:
        log.warning("deletions not queued; the checker queues them again", user_ids=sorted(failed))
    return len(user_ids) - len(failed)


def sweep(settings):
    """Queue again the deletions asked more than REQUEUE_AFTER seconds ago and not finished."""
    if not settings.deletions_queue_url:
        return 0
    with db.pg_transaction() as cur:
        cur.execute(queries.STALLED_DELETIONS, (REQUEUE_AFTER,))
        stalled = [row[0] for row in cur.fetchall()]
    return enqueue(settings, stalled) if stalled else 0


def handle_record(settings, record):
    """The deletions queue's record handler (common.batch): returns when done, raises to be delivered again."""
    message = queue.received(record, queue_messages.parse, queue_messages.DeleteAccount)
    if message is not None:
        run(settings, message.user_id)


def run(settings, user_id):
    """Delete the account step by step; "deleted", "gone" (done before) or "not asked" (never deleted)."""
    with db.pg_transaction() as cur:
        cur.execute(queries.DELETING, (user_id,))
        row = cur.fetchone()
    if row is None:
        return "gone"
    if not row[0]:
        log.error("a deletion message for an account that did not ask", user_id=user_id)
        return "not asked"
    objects = purge_objects(settings.bucket, user_id)
    files = 0
    while True:
        with db.pg_transaction() as cur:
            cur.execute(queries.FILES_OF_USER, (user_id, FILES_PER_BATCH))
            file_ids = [r[0] for r in cur.fetchall()]
        if not file_ids:
            break
        for file_id in file_ids:
            _delete_file(file_id)
            files += 1
    objects += purge_objects(settings.bucket, user_id)      # an upload that was in flight when it was asked
    with db.pg_transaction() as cur:
        cur.execute(queries.DELETE_USER, (user_id,))
    log.info("account deleted", user_id=user_id, files=files, object_versions=objects)
    return "deleted"


def _delete_file(file_id):
    with db.pg_transaction() as cur:
        cur.execute(queries.DELETE_FILE, (file_id,))


def object_prefix(user_id):
    return f"users/{user_id}/"      # files.store.s3_key: every object of the account is under it


def purge_objects(bucket, user_id):
    """Delete every version and delete marker under the account's prefix; returns how many."""
    s3 = aws.client("s3")
    deleted = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=object_prefix(user_id)):
        entries = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                   for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        for start in range(0, len(entries), S3_DELETE_BATCH):
            chunk = entries[start:start + S3_DELETE_BATCH]
            answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": chunk, "Quiet": True})
            if answer.get("Errors"):
                raise RuntimeError(f"S3 refused to delete {len(answer['Errors'])} object versions: "
                                   f"{answer['Errors'][0].get('Code')}")
            deleted += len(chunk)
    return deleted
