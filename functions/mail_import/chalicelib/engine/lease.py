"""A chunk's job lease, kept alive from a thread of its own while the chunk runs.

The lease names its holder (a uuid per chunk) and lasts only MAIL_IMPORT_LEASE_SECONDS (15 s by default); the
keeper renews it every quarter of that. While the chunk lives the lease never lapses, however long the chunk
takes; when its process dies (a kill, out of memory, the invocation's timeout) or cannot reach the database (a
restart), the renewals stop and the next chunk message takes the job over within those seconds, instead of
waiting out a lease sized for the whole chunk.
"""
import threading

from common.log import get_logger

from . import job_records

log = get_logger(__name__)


class LeaseKeeper:
    """Renews (job_id, owner)'s lease every seconds/4 from start() to stop(); .lost once it is not ours."""

    def __init__(self, job_id, owner, seconds):
        self.job_id, self.owner, self.seconds = job_id, owner, seconds
        self.lost = False
        self.renewals = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mail-import-lease", daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        """No renewal after this returns (one in flight is waited for)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)

    def _run(self):
        while not self._stop.wait(self.seconds / 4):
            try:
                if not job_records.renew(self.job_id, self.owner, self.seconds):
                    # Taken over or given back: each commit checks the owner too, so the chunk stops at its next
                    # one (LeaseLost); nothing left to renew.
                    self.lost = True
                    log.warning("lease no longer ours; renewals stop", job_id=self.job_id)
                    return
                self.renewals += 1
            except Exception:  # noqa: BLE001 - the database may be restarting: try again at the next beat
                log.warning("could not renew the lease; retrying", job_id=self.job_id, exc_info=True)
