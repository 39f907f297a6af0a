"""Import jobs: start one for an account, and run one chunk of it per queue message.

A chunk holds the job's lease, works until its time or size budget is spent, checkpoints with
every batch and queues the next chunk itself. The lease is short (MAIL_IMPORT_LEASE_SECONDS) and renewed
while the chunk is alive (lease.LeaseKeeper): when a worker dies hard (killed, out of memory, timed out) or
loses the database, its redelivered message can take the job over seconds later. A chunk that outlives its
lease cannot do harm: each commit checks the lease owner in the same transaction (a taken-over chunk rolls
back and stops), rows are unique by UID and Message-ID, and folder checkpoints only move forward. Messages are
{"job": id, "seq": n}: a message older than the job's current chunk is a stale duplicate, one for a finished job
a no-op.

A crash is not the data's fault: only a failure the code itself sees (an exception it catches, other than a lost
connection or a dead fetch process) counts towards MAIL_IMPORT_MAX_ATTEMPTS, in the job's row. A killed worker
sees nothing and spends nothing; its message simply comes back (the queue's maxReceiveCount is set far above
MAX_ATTEMPTS, so only a message that kills its worker again and again reaches the dead-letter queue).
"""
import math
import random
import time
import uuid

from common import batch, queue
from common.db import connection_errors
from common.log import get_logger

from .. import queue_messages, settings
from ..settings import SAFETY_SECONDS
from . import accounts, deletion, imap_session, indexer, job_records, planning, progress
from .failures import NOT_QUEUED, UNEXPECTED, Cancelled, FolderChanged, HostBusy, ImportFailure, LeaseLost
from .fetch_pool import WorkerDied
from .lease import LeaseKeeper
from .receiving import Receiver

log = get_logger(__name__)
HANDOVER_SECONDS = 2       # the previous chunk is between queueing this message and releasing the job
HOST_BUSY_DELAY = (5, 20)  # a chunk over its IMAP host's cap comes back after this many seconds (jittered)


def interruption(exc):
    """True for failures that say nothing about the data: the database or a fetch process went away. They are
    retried without spending the job's attempts (a restart or a killed child must never fail a job)."""
    return isinstance(exc, connection_errors() + (WorkerDied,))


def enqueue(job_id, seq, delay=0):
    """Queue chunk `seq` of a job (delivered after `delay` seconds)."""
    queue.send(settings.load().queue_url, queue_messages.Chunk(job_id, seq).body(), delay_seconds=delay)


def start(account_id, delay=0):
    """The account's active job, created and queued (after `delay` seconds) if there was none."""
    job, created = job_records.create_job(account_id)
    if created:
        try:
            enqueue(job["id"], 0, delay)
        except Exception:
            log.exception("could not queue the import job", job_id=job["id"])
            job_records.finish(job["id"], "error", ImportFailure(NOT_QUEUED))
            job = job_records.get_job(job["id"])
    return job


def on_page_open(account_id):
    """What opening the account's page does: start an import unless one is running, or return the last job when
    the person cancelled it (it waits for them to resume it: a reload does not undo the cancel)."""
    latest = job_records.latest_job(account_id)
    if latest is not None and latest["state"] == "cancelled":
        return latest
    return start(account_id)


def cancel(account_id):
    """Cancel the account's running import (job_records.cancel); the job as it is now, or None."""
    job_id = job_records.cancel(account_id)
    return job_records.get_job(job_id) if job_id is not None else None


def handle(body, attempt, remaining_ms):
    """Run the chunk a queue message asks for. A job busy with another chunk raises batch.Retry: the
    message comes back once the job is free (the handover in progress, or the holder's lease ending). A job
    whose IMAP host already runs its cap of chunks is queued again a little later, not failed."""
    try:
        message = queue_messages.import_queue(body)
    except queue_messages.BadMessage as exc:
        log.warning("dropping a malformed chunk message", reason=str(exc))   # it can never be read: not redelivered
        return
    if isinstance(message, queue_messages.Deletion):
        deadline = time.monotonic() + max(remaining_ms / 1000 - SAFETY_SECONDS, 1.0)
        if not deletion.run(message.account_id, deadline):
            deletion.send(message.account_id)          # the rest in a new message (this one is done)
        return
    job_id, seq = message.job_id, message.seq
    owner = str(uuid.uuid4())
    config = settings.load()
    budget = max(min(config.chunk_seconds, remaining_ms / 1000 - SAFETY_SECONDS), 1.0)
    try:
        job = job_records.lease(job_id, seq, owner, config.lease_seconds, host_slots=config.host_slots)
    except HostBusy as exc:
        # A new message, not this one handed back: waiting for a busy host must not spend the receives that
        # stand between a chunk and the dead-letter queue. A duplicate, should this one come back anyway, is
        # a no-op (the lease and the sequence number).
        delay = random.randint(*HOST_BUSY_DELAY)
        log.info("IMAP host busy; chunk queued again", job_id=job_id, seq=seq, reason=str(exc), delay=delay)
        enqueue(job_id, seq, delay)
        return
    if job is None:
        current = job_records.get_job(job_id)
        if current is not None and current["state"] in ("queued", "running") and current["chunks"] <= seq:
            # Waiting for the lease to end means the next delivery finds the job free: one hand-back, not a
            # string of them eating the message's receives.
            delay = HANDOVER_SECONDS if current["chunks"] < seq else math.ceil(job_records.lease_left(job_id)) + 1
            if attempt > 1 and current["chunks"] == seq:
                job_records.mark_interrupted(job_id, seq)   # delivered again: the chunk holding the job died
            raise batch.Retry(f"job {job_id} is leased by another chunk; chunk {seq} comes back later", delay=delay)
        return
    keeper = LeaseKeeper(job_id, owner, config.lease_seconds).start()
    try:
        Chunk(job, owner, seq, time.monotonic() + budget, attempt).run()
    finally:
        keeper.stop()


class Chunk:
    """One invocation's share of a job."""

    def __init__(self, job, owner, seq, deadline, attempt):
        self.job = job
        self.owner = owner
        self.seq = seq
        self.deadline = deadline
        self.attempt = attempt
        self.commands = 0

    def run(self):
        """Work, then queue the next chunk or finish the job; a failure the code sees is retried until the job
        has failed MAX_ATTEMPTS times, an interruption (database, fetch process) always."""
        job_id = self.job["id"]
        notifier = progress.Notifier(self.job["account_id"])
        final = None
        try:
            if self._work(notifier):
                enqueue(job_id, self.seq + 1)
                job_records.next_chunk(job_id, self.owner, self.seq + 1)
            else:
                self._request_index()
                job_records.finish(job_id, "done")
                final = dict(progress.job_event(job_records.get_job(job_id)), type="done")
        except ImportFailure as exc:
            log.warning("job failed", job_id=job_id, reason=str(exc))
            self._request_index(strict=False)
            job_records.finish(job_id, "error", exc)
            final = {"type": "error", "message": str(exc), "error_message": exc.message}
        except Cancelled:
            log.info("import cancelled", job_id=job_id)
            self._request_index(strict=False)
            job_records.finish(job_id, "cancelled")
            final = dict(progress.job_event(job_records.get_job(job_id)), type="cancelled")
        except LeaseLost as exc:
            log.warning("lease lost; leaving the job to the new holder", job_id=job_id, reason=str(exc))
        except FolderChanged as exc:
            log.info("folder changed; planning again", job_id=job_id, reason=str(exc))
            enqueue(job_id, self.seq + 1)
            job_records.next_chunk(job_id, self.owner, self.seq + 1)
        except Exception as exc:
            if interruption(exc):
                # Not the data's fault: give the job back (best effort: the lease lapses by itself otherwise)
                # and let the message come back after the backoff, attempts untouched.
                log.warning("job interrupted; retrying", job_id=job_id, error=type(exc).__name__, reason=str(exc))
                self._release()
                raise
            failures = job_records.count_failure(job_id, self.owner)
            if failures is None or failures < settings.load().max_attempts:
                raise
            log.exception("job failed", job_id=job_id, failures=failures)
            self._request_index(strict=False)
            failure = ImportFailure(UNEXPECTED)
            job_records.finish(job_id, "error", failure)
            final = {"type": "error", "message": str(failure), "error_message": failure.message}
        finally:
            job_records.add_commands(job_id, self.commands)
            notifier.close(final)

    def _release(self):
        try:
            job_records.release(self.job["id"], self.owner)
        except Exception:  # noqa: BLE001 - the database is away: the lease ends by itself in seconds
            log.warning("could not give the lease back", job_id=self.job["id"], exc_info=True)

    def _request_index(self, strict=True):
        """Before the job ends: index every message it stored (from its first one), covering any request lost
        between a commit and its send. Strict (the job finishing well): a failed send raises, the chunk runs
        again. Otherwise the job is failing already: the failure is logged, and the sync schedule asks later
        (indexer.request_missed)."""
        try:
            job = job_records.get_job(self.job["id"])
            if job["index_from"] is not None:
                indexer.request(job["account_id"], job["index_from"])
                indexer.requested(job["id"])
        except Exception:
            if strict:
                raise
            log.exception("could not queue the indexing of the job", job_id=self.job["id"])

    def _work(self, notifier):
        """Plan and receive folder after folder; True if there is more for another chunk."""
        job = self.job
        if job.get("cancel_requested"):
            raise Cancelled(f"job {job['id']} cancelled")       # asked for between two chunks
        account = accounts.get(job["account_id"])
        server = accounts.server(account)
        session = imap_session.connect(server)
        try:
            folders = job["folders"]
            if not folders:
                folders = account["folders"] or session.default_folders()
                job_records.set_folders(job["id"], self.owner, folders)
                job = dict(job, folders=folders)
            notifier.progress(progress.job_event(job))
            while True:
                info = session.select(folders[job["folder_index"]])
                if job["phase"] != "receiving" or job["plan_uidvalidity"] != info.uidvalidity:
                    if not planning.plan_folder(session, job, self.owner, info, self.deadline, notifier):
                        return True
                    job = job_records.get_job(job["id"])
                notifier.progress(progress.job_event(job))
                receiver = Receiver(session, server, job, self.owner, info, notifier)
                try:
                    finished = receiver.run(self.deadline)
                finally:
                    self.commands += receiver.commands
                if not finished:
                    return True
                if job["folder_index"] + 1 >= len(folders):
                    return False
                job_records.next_folder(job["id"], self.owner)
                job = job_records.get_job(job["id"])
                if time.monotonic() >= self.deadline:
                    return True
        finally:
            session.close()
            self.commands += session.commands
