"""Import jobs and folder sync state in the database: create, lease, plan, finish."""
from psycopg2.extras import Json

from common import rows
from common.db import pg_transaction

from .. import queries
from .failures import HostBusy, LeaseLost, is_auth_failure

STALE_SECONDS = 900    # an active job untouched this long, unleased, lost its queue message


def _owned(cur, job_id):
    if cur.rowcount != 1:
        raise LeaseLost(f"job {job_id} was taken over")


def create_job(account_id):
    """(job, created): a new queued job, or the active one if the account already has one."""
    with pg_transaction() as cur:
        cur.execute(queries.SUPERSEDE_STALE_JOB, {"account": account_id, "stale_seconds": STALE_SECONDS})
        cur.execute(queries.CREATE_JOB, (account_id,))
        created = cur.fetchone() is not None
        if created:
            cur.execute(queries.SET_ACCOUNT_STATUS, ("importing", None, None, account_id))
        cur.execute(queries.ACTIVE_JOB, (account_id,))
        return rows.one(cur), created


def active_job(account_id):
    """The account's queued or running job, or None."""
    with pg_transaction() as cur:
        cur.execute(queries.ACTIVE_JOB, (account_id,))
        return rows.one(cur)


def cancel(account_id):
    """Ask the account's active job to stop: a job no chunk holds ends at once, the chunk holding one stops at
    its next batch (engine/receiving.py). Returns the job's id, or None when no import was running."""
    with pg_transaction() as cur:
        cur.execute(queries.REQUEST_CANCEL, (account_id,))
        row = cur.fetchone()
        if row is None:
            return None
        cur.execute(queries.CANCEL_IDLE_JOB, (row[0],))
        if cur.fetchone() is not None:
            cur.execute(queries.SET_ACCOUNT_STATUS, ("ok", None, None, account_id))
        return row[0]


def latest_job(account_id):
    """The account's newest job or None."""
    with pg_transaction() as cur:
        cur.execute(queries.LATEST_JOB, (account_id,))
        return rows.one(cur)


def get_job(job_id):
    """A job by id or None."""
    with pg_transaction() as cur:
        cur.execute(queries.JOB, (job_id,))
        return rows.one(cur)


def lease_left(job_id):
    """Seconds until the job's lease ends (0 if none)."""
    with pg_transaction() as cur:
        cur.execute(queries.LEASE_LEFT, (job_id,))
        row = cur.fetchone()
    return row[0] if row else 0


def lease(job_id, seq, owner, seconds, host_slots=None):
    """The job if this chunk message may work on it now (we then hold its lease), else None. With host_slots,
    HostBusy if that many chunks of other jobs already hold a live lease on the same IMAP host: one host (slow,
    or many accounts on it) cannot take every import slot. The count and the lease happen under the host's
    advisory lock, so two chunks of one host never both see the last free slot."""
    with pg_transaction() as cur:
        cur.execute(queries.JOB_HOST, (job_id,))
        row = cur.fetchone()
        if row is None:
            return None
        host = row[0]
        if host_slots is not None:
            cur.execute(queries.LOCK_HOST, (host,))
            cur.execute(queries.HOST_LEASES, {"host": host, "job": job_id})
            busy = cur.fetchone()[0]
        cur.execute(queries.LEASE_JOB, {"job": job_id, "seq": seq, "owner": owner, "seconds": seconds, "host": host})
        job = rows.one(cur)
        if job is not None and host_slots is not None and busy >= host_slots:
            raise HostBusy(f"{busy} chunks already import from {host}")   # rolls the lease back
        return job


def mark_interrupted(job_id, seq):
    """Chunk `seq`'s message is back while the job is leased: its holder died (see queries.MARK_INTERRUPTED)."""
    with pg_transaction() as cur:
        cur.execute(queries.MARK_INTERRUPTED, {"job": job_id, "seq": seq})


def renew(job_id, owner, seconds):
    """Extend our lease by `seconds` from now; False if it is no longer ours."""
    with pg_transaction() as cur:
        cur.execute(queries.RENEW_LEASE, {"job": job_id, "owner": owner, "seconds": seconds})
        return cur.rowcount == 1


def release(job_id, owner):
    """Give the lease back (a no-op if it is no longer ours); the job counts as interrupted until a commit."""
    with pg_transaction() as cur:
        cur.execute(queries.RELEASE_JOB, {"job": job_id, "owner": owner})


def count_failure(job_id, owner):
    """A failure the import code saw: give the lease back and return the job's failures so far (None if the
    lease is no longer ours: the new holder counts its own)."""
    with pg_transaction() as cur:
        cur.execute(queries.COUNT_FAILURE, {"job": job_id, "owner": owner})
        row = cur.fetchone()
    return row[0] if row else None


def dead_letter_failure(job_id, seq):
    """A chunk message of the job came out of the dead-letter queue: the job's failures so far, or None if the job
    has finished or moved past that chunk."""
    with pg_transaction() as cur:
        cur.execute(queries.DEAD_LETTER_FAILURE, {"job": job_id, "seq": seq})
        row = cur.fetchone()
    return row[0] if row else None


def next_chunk(job_id, owner, seq):
    """Record that chunk message `seq` is the current one and give the lease back."""
    with pg_transaction() as cur:
        cur.execute(queries.NEXT_CHUNK, {"job": job_id, "owner": owner, "next": seq})


def set_folders(job_id, owner, folders):
    """Store the folder list the job resolved."""
    with pg_transaction() as cur:
        cur.execute(queries.SET_JOB_FOLDERS, {"job": job_id, "owner": owner, "folders": folders})
        _owned(cur, job_id)


def add_commands(job_id, commands):
    """Add to the job's count of IMAP commands."""
    if commands:
        with pg_transaction() as cur:
            cur.execute(queries.SET_JOB_COMMANDS, {"job": job_id, "commands": commands})


def finish(job_id, state, failure=None):
    """Mark the job done or failed (failure: an ImportFailure), and its account ok or in error; False if it
    was not active. The English text goes to `error`, the message id and values to `error_message`."""
    error = str(failure) if failure else None
    message = Json(failure.message) if failure else None
    with pg_transaction() as cur:
        cur.execute(queries.FINISH_JOB, {"job": job_id, "state": state, "error": error, "error_message": message})
        row = cur.fetchone()
        if row is None:
            return False
        status = "ok" if state in ("done", "cancelled") else "auth_failed" if is_auth_failure(failure) else "error"
        cur.execute(queries.SET_ACCOUNT_STATUS, (status, error, message, row[0]))
        return True


def next_folder(job_id, owner):
    """Move the job on to its next folder, back in phase 1."""
    with pg_transaction() as cur:
        cur.execute(queries.NEXT_FOLDER, {"job": job_id, "owner": owner})
        _owned(cur, job_id)


# ---- folders -----------------------------------------------------------------------------------

def folder_state(account_id, folder):
    """(uidvalidity, last_uid) of a folder's checkpoint or None."""
    with pg_transaction() as cur:
        cur.execute(queries.FOLDER_STATE, (account_id, folder))
        return cur.fetchone()


def has_messages(account_id):
    """True if anything is stored for the account yet."""
    with pg_transaction() as cur:
        cur.execute(queries.ACCOUNT_HAS_MESSAGES, (account_id,))
        return cur.fetchone()[0]


def known_message_ids(account_id, message_ids):
    """The subset of message_ids already stored for the account."""
    if not message_ids:
        return set()
    with pg_transaction() as cur:
        cur.execute(queries.KNOWN_MESSAGE_IDS, (account_id, list(message_ids)))
        return {r[0] for r in cur.fetchall()}


def save_scan(job, owner, uidvalidity, uids, scan_below, checked, total):
    """Persist the fallback scan's progress so another chunk can go on from there."""
    with pg_transaction() as cur:
        cur.execute(queries.SAVE_SCAN, {"job": job["id"], "owner": owner, "uidvalidity": uidvalidity, "uids": uids,
                                        "scan_below": scan_below, "checked": checked, "total": total})
        _owned(cur, job["id"])


def save_plan(job, owner, folder, uidvalidity, uids, top, checkpoint, checked):
    """Phase 1's result: the UIDs to receive; with checkpoint set, the folder's sync state starts anew there."""
    with pg_transaction() as cur:
        if checkpoint is not None:
            cur.execute(queries.SET_FOLDER_STATE, (job["account_id"], folder, uidvalidity, checkpoint))
        cur.execute(queries.SAVE_PLAN, {"job": job["id"], "owner": owner, "uidvalidity": uidvalidity, "uids": uids,
                                        "top": top, "checked": checked, "total": len(uids), "remaining": len(uids)})
        _owned(cur, job["id"])


def close_folder(job, folder, uidvalidity, top):
    """The whole plan is in: the checkpoint jumps to the highest UID the plan covered."""
    with pg_transaction() as cur:
        cur.execute(queries.ADVANCE_FOLDER, {"last_uid": top, "account": job["account_id"], "folder": folder,
                                             "uidvalidity": uidvalidity})
