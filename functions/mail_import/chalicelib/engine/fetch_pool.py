"""Child processes that each log in to IMAP and run a BatchWorker; batches come back in order.

multiprocessing Process + Pipe only (Lambda has no /dev/shm, so no Pool or Queue). Children are
forked: nothing is pickled or re-imported, and they touch nothing the parent's other threads may
hold (they open their own IMAP session and S3 client, never the parent's database connection,
and leave with os._exit, so the inherited connection is not closed under the parent).
"""
import logging
import multiprocessing
import time
from collections import deque
from multiprocessing.connection import wait

from .failures import FolderChanged, ImportFailure

log = logging.getLogger(__name__)
IN_FLIGHT = 2          # batches queued per child: it starts the next while the last one uploads
# How long past the chunk's deadline the children may take to answer for batches handed out before it. A child
# that stays silent longer is stuck (seen once in a full test run, cause unknown): the chunk fails and is
# retried with new children, instead of waiting until the invocation times out.
ANSWER_GRACE = 30.0


def context():
    """The multiprocessing context for children."""
    return multiprocessing.get_context("fork")


class WorkerDied(RuntimeError):
    """A child process ended without answering."""


class ProcessPool:
    """`processes` children fetching batches of one folder; results(batches, deadline) yields them in order."""

    def __init__(self, processes, server, folder, uidvalidity, account_id):
        from . import fetch_child
        ctx = context()
        self.children = []
        try:
            for _ in range(processes):
                parent_end, child_end = ctx.Pipe()
                proc = ctx.Process(target=fetch_child.main, args=(child_end, server, folder, uidvalidity, account_id),
                                   daemon=True)
                self.children.append((proc, parent_end))
                proc.start()
                child_end.close()
        except BaseException:
            self.close(abort=True)
            raise

    def results(self, batches, deadline):
        """Yield Results in batch order; no batch is handed out after the deadline."""
        todo = deque(enumerate(batches))
        owner = {}           # connection -> number of batches it holds
        done = {}
        next_index = 0
        handed_out = 0
        for _proc, conn in self.children:
            owner[conn] = 0
            for _ in range(IN_FLIGHT):
                handed_out += self._hand_out(conn, todo, owner, deadline)
        while next_index < handed_out:
            ready = wait([c for c, n in owner.items() if n], max(0.0, deadline - time.monotonic()) + ANSWER_GRACE)
            if not ready:
                raise WorkerDied("a fetch worker did not answer in time")
            for conn in ready:
                index, result = self._receive(conn)
                owner[conn] -= 1
                done[index] = result
                handed_out += self._hand_out(conn, todo, owner, deadline)
            while next_index in done:
                yield done.pop(next_index)
                next_index += 1

    @staticmethod
    def _hand_out(conn, todo, owner, deadline):
        if not todo or time.monotonic() >= deadline:
            return 0
        conn.send(todo.popleft())
        owner[conn] += 1
        return 1

    @staticmethod
    def _receive(conn):
        try:
            kind, *payload = conn.recv()
        except (EOFError, OSError):
            raise WorkerDied("a fetch worker process died") from None
        if kind == "ok":
            return payload
        if kind == "failure":
            failure = payload[0]   # the child's ImportFailure, message id and values intact
            raise failure if isinstance(failure, ImportFailure) else ImportFailure(str(failure))
        if kind == "changed":
            raise FolderChanged(payload[0])
        raise RuntimeError(f"fetch worker failed: {payload[0]}")

    def close(self, abort=False):
        """Ask every child to stop and wait for it; on abort (or if it hangs) kill it."""
        for proc, conn in self.children:
            if abort:
                if proc.pid is not None:
                    proc.kill()
                continue
            try:
                conn.send(None)
            except OSError:
                pass
        for proc, conn in self.children:
            if proc.pid is None:      # never started
                conn.close()
                continue
            proc.join(10)
            if proc.is_alive():
                log.warning("fetch worker %s did not stop; killing it", proc.pid)
                proc.kill()
                proc.join()
            conn.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        self.close(abort=exc_type is not None)
