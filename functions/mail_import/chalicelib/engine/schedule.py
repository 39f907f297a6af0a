"""The sync schedule (every minute): queue an incremental import for each account that is due, queue
again the chunk of any job whose queue message was lost, and the indexing a finished job could not ask for.

Starts are spread over the minute with per-message delays, so ten thousand accounts on a ten-minute
interval start about seventeen a second, never all at once; one account never has two jobs (the
jobs_one_active index: a due account whose import is still running keeps that one).
"""
from common.db import pg_transaction
from common.log import get_logger

from .. import queries, settings
from . import dead_letters, deletion, indexer, jobs

log = get_logger(__name__)
WINDOW_SECONDS = 55         # starts spread over this part of the minute, done before the next run
MAX_STARTS_PER_SECOND = 50  # at most this many accounts claimed per run: the rest wait a minute


def delays(count, window=WINDOW_SECONDS):
    """Per-start delays in whole seconds, spread evenly over the window."""
    return [int(i * window / count) for i in range(count)]


def claim_due(limit=WINDOW_SECONDS * MAX_STARTS_PER_SECOND):
    """Ids of the accounts due now, their next sync moved one interval on."""
    with pg_transaction() as cur:
        cur.execute(queries.CLAIM_DUE_ACCOUNTS, {"limit": limit})
        return sorted(row[0] for row in cur.fetchall())


def claim_stranded(stale_seconds, limit=1000):
    """[(job id, current chunk)] of active jobs that lost their queue message."""
    with pg_transaction() as cur:
        cur.execute(queries.CLAIM_STRANDED_JOBS, {"stale_seconds": stale_seconds, "limit": limit})
        return cur.fetchall()


def run():
    """One schedule run: {"started": n, "requeued": n, "indexing": n (requests finished jobs had not sent),
    "dead_letters": {...} (dead_letters.sweep), "deletions": n (stalled deletions queued again)}."""
    try:
        swept = dead_letters.sweep()
    except Exception:  # the syncs below must run even when the dead-letter queue cannot be read
        log.exception("could not sweep the dead-letter queue")
        swept = None
    requeued = 0
    # Beyond the queue's visibility timeout (MAIL_IMPORT_STRANDED_SECONDS): only lost messages are this old.
    for job_id, seq in claim_stranded(settings.load().stranded_seconds):
        jobs.enqueue(job_id, seq)
        requeued += 1
    deletions = 0
    try:
        deletions = deletion.requeue_stalled()
    except Exception:  # the syncs below must run even when a deletion cannot be queued
        log.exception("could not queue the stalled deletions again")
    due = claim_due()
    started = 0
    for account_id, delay in zip(due, delays(len(due))):
        try:
            job = jobs.start(account_id, delay=delay)
        except Exception:  # one account's trouble must not stop the others' syncs
            log.exception("could not start the sync of an account", account_id=account_id)
            continue
        started += job is not None
    if requeued or due or deletions:
        log.info("sync schedule", due=len(due), requeued=requeued, deletions=deletions)
    return {"started": started, "requeued": requeued, "indexing": indexer.request_missed(), "dead_letters": swept,
            "deletions": deletions}
