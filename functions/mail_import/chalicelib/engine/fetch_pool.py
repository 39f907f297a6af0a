"""Child processes that each log in to IMAP and run a BatchWorker; batches come back in order.

multiprocessing Process + Pipe only (Lambda has no /dev/shm, so no Pool or Queue). Children are started by a
forkserver, never forked from the handler's process: that process runs threads (the commit thread, the
progress notifier, the lease keeper), and a fork copies whatever lock one of them held at that instant (a
child that never answered was seen). The forkserver is a single-threaded process started once per execution
environment with the child's modules already imported (its preload), so a child starts in milliseconds with
no other thread's state. What a child needs is sent to it (the environment, the server, the folder); it
opens its own IMAP session, S3 client and database connection.

A child never outlives the handler's process: it holds the read end of an "alive" pipe whose only write end is
the parent's, and a thread of the child exits the process when that pipe ends (the parent died: killed, out of
memory, timed out), whatever the child is doing at that moment.
"""
import multiprocessing
import os
import sys
import threading
import time
from collections import deque
from multiprocessing import forkserver
from multiprocessing.connection import wait

from common.log import get_logger

from .failures import FolderChanged, ImportFailure

log = get_logger(__name__)
IN_FLIGHT = 2          # batches queued per child: it starts the next while the last one uploads
# How long past the chunk's deadline the children may take to answer for batches handed out before it. A child
# that stays silent longer is stuck: the chunk fails and is retried with new children, instead of waiting until
# the invocation times out.
ANSWER_GRACE = 30.0
START_METHOD = "forkserver"
_starting = threading.Lock()


def context():
    """The multiprocessing context for children: a forkserver preloading the child's modules."""
    from . import fetch_child
    ctx = multiprocessing.get_context(START_METHOD)
    if START_METHOD == "forkserver":
        # Read when the forkserver starts (once per process); later calls change nothing.
        ctx.set_forkserver_preload([fetch_child.__name__, fetch_child.__name__.rsplit(".", 1)[0] + ".s3_models"])
        start_forkserver()
    return ctx


def start_forkserver():
    """Start the forkserver (once) so that its preload finds the child's modules.

    Python 3.11's forkserver runs as `python -c ...` and never applies the parent's sys.path it is handed, and
    a preload that fails to import is skipped silently: the engine, found through a folder the handler's process
    added to sys.path (Lambda's task root, the bench's and the tests' folders), was not preloaded, and every
    child imported boto3, psycopg2 and the engine itself, a good part of a fetch child's CPU in a bulk import. The
    path goes to it through PYTHONPATH, set only while it starts (an isolated interpreter, -I, ignores it: there
    the children import on their own, as before)."""
    with _starting:
        saved = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)
        try:
            forkserver.ensure_running()
        finally:
            if saved is None:
                os.environ.pop("PYTHONPATH", None)
            else:
                os.environ["PYTHONPATH"] = saved


class WorkerDied(RuntimeError):
    """A fetch child died, stayed silent or lost a connection: an interruption of the chunk, not a data failure."""


class ProcessPool:
    """`processes` children fetching batches of one folder; results(batches, deadline) yields them in order."""

    def __init__(self, processes, server, folder, uidvalidity, account_id):
        from . import fetch_child
        ctx = context()
        self.children = []
        # The parent keeps the only write end: the children see EOF on theirs as soon as the parent is gone.
        alive_r, self._alive = ctx.Pipe(duplex=False)
        try:
            for _ in range(processes):
                parent_end, child_end = ctx.Pipe()
                proc = ctx.Process(target=fetch_child.main, daemon=True, args=(
                    child_end, alive_r, dict(os.environ), server, folder, uidvalidity, account_id))
                self.children.append((proc, parent_end))
                proc.start()
                child_end.close()
        except BaseException:
            self.close(abort=True)
            raise
        finally:
            alive_r.close()

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
        try:
            conn.send(todo.popleft())
        except OSError:    # its pipe is closed: the child died (killed, out of memory)
            raise WorkerDied("a fetch worker process died") from None
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
        if kind == "interrupted":   # it lost a connection (the database restarting): not the data's fault
            raise WorkerDied(f"a fetch worker was interrupted: {payload[0]}")
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
                log.warning("fetch worker did not stop; killing it", pid=proc.pid)
                proc.kill()
                proc.join()
            conn.close()
        self._alive.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        self.close(abort=exc_type is not None)
