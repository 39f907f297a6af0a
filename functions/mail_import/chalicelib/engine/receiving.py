"""Phase 2, "receiving messages": fetch the planned UIDs oldest first, store them, checkpoint every batch."""
from concurrent.futures import ThreadPoolExecutor

from common import aws
from common.log import get_logger

from .. import settings
from . import fetching, indexer, job_records, message_store
from .failures import Cancelled
from .fetch_pool import ProcessPool

log = get_logger(__name__)


class Receiver:
    """Receives one folder's plan for one chunk; .commands counts IMAP commands of child processes' sessions."""

    def __init__(self, session, server, job, owner, info, notifier):
        self.session = session
        self.server = server
        self.job = job
        self.owner = owner
        self.info = info
        self.notifier = notifier
        self.commands = 0

    def run(self, deadline):
        """Receive until the plan is done (True) or the chunk's deadline/size is reached (False)."""
        job, info = self.job, self.info
        _uidvalidity, last_uid = job_records.folder_state(job["account_id"], info.name)
        plan = job["plan_uids"] or []
        todo = [uid for uid in plan if uid > last_uid]
        chunk = todo[:settings.load().chunk_messages]
        sizes = self.session.sizes(chunk) if chunk else {}
        batches = fetching.make_batches(chunk, sizes, settings.load().batch, settings.load().batch_bytes)
        remaining = len(todo)
        index_requests = indexer.Requests(job["account_id"])

        def commit(result, remaining):
            return message_store.commit_batch(job, self.owner, info.name, info.uidvalidity, result.records,
                                              result.uids[-1], remaining), remaining

        def committed(new_rows, remaining):
            index_requests.note(min((row["id"] for row in new_rows), default=None))
            self.notifier.rows(new_rows)
            self.notifier.progress({"type": "progress", "state": "running", "phase": "receiving",
                                    "folder": info.name, "checked": job["checked"], "total": len(plan),
                                    "remaining": remaining})
            if getattr(new_rows, "cancel_requested", False):
                raise Cancelled(f"job {job['id']} cancelled")   # between batches: the ones committed stay
        try:
            # Batch N is committed (in its own thread, on that thread's own connection) while batch N+1 is
            # received and more batches are handed to the fetch processes: they no longer wait for the
            # database. Commits stay in UID order, one at a time.
            with ThreadPoolExecutor(1, thread_name_prefix="commit") as committer:
                pending = None
                for result in self._results(batches, deadline):
                    remaining -= len(result.uids)
                    if pending is not None:
                        committed(*pending.result())
                    pending = committer.submit(commit, result, remaining)
                if pending is not None:
                    committed(*pending.result())
        except BaseException:
            try:
                index_requests.flush()
            except Exception:  # the job's last chunk asks again from the job's first message
                log.exception("could not queue an indexing request", account_id=job["account_id"])
            raise
        index_requests.flush()
        if remaining:
            return False
        job_records.close_folder(job, info.name, info.uidvalidity, job["plan_top"] or 0)
        return True

    def _results(self, batches, deadline):
        workers = min(settings.load().processes, len(batches))
        pool = None
        if workers > 1:
            try:
                pool = ProcessPool(workers, self.server, self.info.name, self.info.uidvalidity,
                                   self.job["account_id"])
            except OSError as exc:  # a sandbox that forbids fork: slower, but the import still runs
                log.warning("no fetch worker processes; fetching in the handler's process", reason=str(exc))
        if pool is not None:
            with pool:
                for result in pool.results(batches, deadline):
                    self.commands += result.commands  # the children's own sessions
                    yield result
            return
        worker = fetching.BatchWorker(self.session, self.job["account_id"], aws.client("s3"))
        try:
            yield from fetching.in_process(worker, batches, deadline)
        finally:
            worker.close()
