"""Import jobs: start one for an account, and run one chunk of it per queue message.

A chunk holds the job's lease, works until its time or size budget is spent, checkpoints with
every batch and queues the next chunk itself. The lease lasts the chunk's budget plus a margin, not
the whole invocation: when a worker dies hard (killed, out of memory), its redelivered message can
take the job over soon after. A chunk that outlives its lease cannot do harm: each commit checks the
lease owner in the same transaction (a taken-over chunk rolls back and stops), rows are unique by UID
and Message-ID, and folder checkpoints only move forward. Messages are {"job": id, "seq": n}: a message older
than the job's current chunk is a stale duplicate, one for a finished job a no-op.
"""
import json
import os
import signal
import time
import uuid

from common import aws
from common.log import get_logger

from . import accounts, imap, planning, progress, state
from .errors import FolderChanged, ImportFailure, LeaseLost
from .receiving import Receiver

log = get_logger(__name__)
SAFETY_SECONDS = 30        # left at the deadline for the batches in flight, the last commit and the enqueue
UNEXPECTED = "The import stopped because of an internal error. Reload the page to try again."
_test_hook = {"commits": 0, "crashed": False}
_kill_hook = {"commits": 0}


def chunk_seconds():
    """A chunk's time budget (MAIL_IMPORT_CHUNK_SECONDS, default 60), cut to fit the invocation."""
    return float(os.environ.get("MAIL_IMPORT_CHUNK_SECONDS", "60"))


def lease_margin_seconds():
    """How long the lease outlasts the chunk's budget (MAIL_IMPORT_LEASE_MARGIN_SECONDS, default SAFETY_SECONDS):
    time for the batches in flight at the deadline, the last commit and the enqueue."""
    return float(os.environ.get("MAIL_IMPORT_LEASE_MARGIN_SECONDS", str(SAFETY_SECONDS)))


def lease_seconds(budget, remaining_ms):
    """The lease a chunk with this budget takes: budget + margin, never longer than the invocation can run.

    With the defaults (60 s budget, 30 s margin, 120 s Timeout) that is 90 s: within the Lambda Timeout and
    far below the queue's VisibilityTimeout, so a killed chunk's job is free again before its message returns.
    """
    return min(budget + lease_margin_seconds(), remaining_ms / 1000 + 5)


def max_attempts():
    """Deliveries of one chunk message before the job is failed (the queue's maxReceiveCount)."""
    return int(os.environ.get("MAIL_IMPORT_MAX_ATTEMPTS", "3"))


def enqueue(job_id, seq):
    """Queue chunk `seq` of a job."""
    aws.client("sqs").send_message(QueueUrl=os.environ["MAIL_IMPORT_QUEUE_URL"],
                                   MessageBody=json.dumps({"job": job_id, "seq": seq}))


def start(account_id):
    """The account's active job, created and queued if there was none."""
    job, created = state.create_job(account_id)
    if created:
        try:
            enqueue(job["id"], 0)
        except Exception:
            log.exception("could not queue import job %s", job["id"])
            state.finish(job["id"], "error", "The import could not be queued. Reload the page to try again.")
            job = state.get_job(job["id"])
    return job


def handle(body, attempt, remaining_ms):
    """Run the chunk a queue message asks for; False means "deliver it again later" (the job is busy)."""
    try:
        message = json.loads(body)
        job_id, seq = int(message["job"]), int(message["seq"])
    except (ValueError, KeyError, TypeError):
        log.warning("dropping a malformed chunk message: %.200s", body)
        return True
    owner = str(uuid.uuid4())
    budget = max(min(chunk_seconds(), remaining_ms / 1000 - SAFETY_SECONDS), 1.0)
    job = state.lease(job_id, seq, owner, lease_seconds(budget, remaining_ms))
    if job is None:
        current = state.get_job(job_id)
        busy = current is not None and current["state"] in ("queued", "running") and current["chunks"] <= seq
        if busy:
            log.info("job %s is leased by another chunk; chunk %s retries later", job_id, seq)
        return not busy
    Chunk(job, owner, seq, time.monotonic() + budget, attempt).run()
    return True


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
        """Work, then queue the next chunk or finish the job; unexpected errors retry until the last attempt."""
        job_id = self.job["id"]
        notifier = progress.Notifier(self.job["account_id"])
        final = None
        try:
            if self._work(notifier):
                enqueue(job_id, self.seq + 1)
                state.next_chunk(job_id, self.owner, self.seq + 1)
            else:
                state.finish(job_id, "done")
                final = dict(progress.job_event(state.get_job(job_id)), type="done")
        except ImportFailure as exc:
            log.warning("job %s failed: %s", job_id, exc)
            state.finish(job_id, "error", str(exc))
            final = {"type": "error", "message": str(exc)}
        except LeaseLost as exc:
            log.warning("job %s: %s; leaving it to the new holder", job_id, exc)
        except FolderChanged as exc:
            log.info("job %s: %s; planning again", job_id, exc)
            enqueue(job_id, self.seq + 1)
            state.next_chunk(job_id, self.owner, self.seq + 1)
        except Exception:
            if self.attempt < max_attempts():
                state.release(job_id, self.owner)
                raise
            log.exception("job %s failed on its last attempt", job_id)
            state.finish(job_id, "error", UNEXPECTED)
            final = {"type": "error", "message": UNEXPECTED}
        finally:
            state.add_commands(job_id, self.commands)
            notifier.close(final)

    def _work(self, notifier):
        """Plan and receive folder after folder; True if there is more for another chunk."""
        job = self.job
        account = accounts.get(job["account_id"])
        server = accounts.server(account)
        session = imap.connect(server)
        try:
            folders = job["folders"]
            if not folders:
                folders = account["folders"] or session.default_folders()
                state.set_folders(job["id"], self.owner, folders)
                job = dict(job, folders=folders)
            notifier.progress(progress.job_event(job))
            while True:
                info = session.select(folders[job["folder_index"]])
                if job["phase"] != "receiving" or job["plan_uidvalidity"] != info.uidvalidity:
                    if not planning.plan_folder(session, job, self.owner, info, self.deadline, notifier):
                        return True
                    job = state.get_job(job["id"])
                notifier.progress(progress.job_event(job))
                receiver = Receiver(session, server, job, self.owner, info, notifier,
                                    after_commit=_after_commit)
                try:
                    finished = receiver.run(self.deadline)
                finally:
                    self.commands += receiver.commands
                if not finished:
                    return True
                if job["folder_index"] + 1 >= len(folders):
                    return False
                state.next_folder(job["id"], self.owner)
                job = state.get_job(job["id"])
                if time.monotonic() >= self.deadline:
                    return True
        finally:
            session.close()
            self.commands += session.commands


def _after_commit():
    _kill_hook_fire()
    _crash_hook()


def _crash_hook():
    """Test hook: MAIL_IMPORT_TEST_CRASH_AFTER_COMMITS=N makes this process fail once after its Nth commit."""
    limit = int(os.environ.get("MAIL_IMPORT_TEST_CRASH_AFTER_COMMITS", "0") or 0)
    if not limit or _test_hook["crashed"]:
        return
    _test_hook["commits"] += 1
    if _test_hook["commits"] >= limit:
        _test_hook["crashed"] = True
        raise RuntimeError("simulated worker crash (MAIL_IMPORT_TEST_CRASH_AFTER_COMMITS)")


def _kill_hook_fire():
    """Test hook: MAIL_IMPORT_TEST_KILL_AFTER_COMMITS=N with MAIL_IMPORT_TEST_KILL_MARKER=<path> SIGKILLs this
    process after its Nth commit, once per marker: the marker file (holding the pid) is created first, so the
    fresh process the runtime starts next never kills itself again."""
    limit = int(os.environ.get("MAIL_IMPORT_TEST_KILL_AFTER_COMMITS", "0") or 0)
    marker = os.environ.get("MAIL_IMPORT_TEST_KILL_MARKER", "")
    if not limit or not marker or os.path.exists(marker):
        return
    _kill_hook["commits"] += 1
    if _kill_hook["commits"] < limit:
        return
    try:
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as out:
        out.write(str(os.getpid()))
    log.warning("simulated hard kill of pid %s (MAIL_IMPORT_TEST_KILL_AFTER_COMMITS)", os.getpid())
    os.kill(os.getpid(), signal.SIGKILL)
