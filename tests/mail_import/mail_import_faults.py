"""Faults for the import's crash tests, injected from outside the product: the real commit runs, then the
process fails. Nothing in functions/ knows about them.

In the test process: `CrashAfterCommits.install(monkeypatch, 2)`. In a local cloud worker (a process of
its own), the worker preloads this file (LOCAL_PRELOAD, given with start_cloud(env=...)) and it arms itself
from FAULT_CRASH_AFTER_COMMITS, or FAULT_KILL_AFTER_COMMITS with FAULT_KILL_MARKER; the recovery test's
FAULT_COMMIT_PAUSE (seconds after each commit: an import slow enough to hit) and FAULT_PID_FILE (where the
worker that last committed writes its pid, for the test to kill it or its fetch children from outside).
"""
import importlib
import os
import signal
import sys
import threading

STORE = "message_store"


class SimulatedCrash(RuntimeError):
    """What the crash fault raises."""


class CrashAfterCommits:
    """Wraps the batch commit: after the Nth commit of this process, raise once."""

    def __init__(self, commit, limit):
        self.commit, self.limit, self.commits, self.fired = commit, limit, 0, 0

    def __call__(self, *args, **kwargs):
        result = self.commit(*args, **kwargs)
        self.commits += 1
        if self.commits == self.limit:
            self.fired += 1
            raise SimulatedCrash(f"simulated worker crash after commit {self.commits}")
        return result

    @classmethod
    def install(cls, monkeypatch, limit, store=None):
        store = store or importlib.import_module("functions.mail_import.chalicelib.engine.message_store")
        fault = cls(store.commit_batch, limit)
        monkeypatch.setattr(store, "commit_batch", fault)
        return fault


class KillAfterCommits:
    """Wraps the batch commit: after the Nth commit, SIGKILL this process, once per marker file. The marker
    (holding the pid) is created first, so the fresh process the runtime starts next never kills itself."""

    def __init__(self, commit, limit, marker):
        self.commit, self.limit, self.marker, self.commits = commit, limit, marker, 0

    def __call__(self, *args, **kwargs):
        result = self.commit(*args, **kwargs)
        self.commits += 1
        if self.commits >= self.limit and not os.path.exists(self.marker):
            try:
                fd = os.open(self.marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return result
            with os.fdopen(fd, "w") as out:
                out.write(str(os.getpid()))
            print(f"simulated hard kill of pid {os.getpid()}", file=sys.stderr, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        return result


class PacedCommits:
    """Wraps the batch commit: after each commit, write this process's pid to `pid_file` (replaced atomically) and
    pause `pause` seconds."""

    def __init__(self, commit, pause, pid_file):
        self.commit, self.pause, self.pid_file = commit, pause, pid_file

    def __call__(self, *args, **kwargs):
        result = self.commit(*args, **kwargs)
        if self.pid_file:
            partial = f"{self.pid_file}.{os.getpid()}"
            with open(partial, "w") as out:
                out.write(str(os.getpid()))
            os.replace(partial, self.pid_file)
        if self.pause:
            import time
            time.sleep(self.pause)
        return result


def arm_from_environment():
    """In a worker: wrap the function's own chalicelib.engine.message_store as the FAULT_* variables say."""
    crash = int(os.environ.get("FAULT_CRASH_AFTER_COMMITS") or 0)
    kill = int(os.environ.get("FAULT_KILL_AFTER_COMMITS") or 0)
    pause = float(os.environ.get("FAULT_COMMIT_PAUSE") or 0)
    pid_file = os.environ.get("FAULT_PID_FILE")
    if not crash and not kill and not pause and not pid_file:
        return
    store = importlib.import_module(f"chalicelib.engine.{STORE}")
    if pause or pid_file:
        store.commit_batch = PacedCommits(store.commit_batch, pause, pid_file)
    if crash:
        store.commit_batch = CrashAfterCommits(store.commit_batch, crash)
    if kill:
        store.commit_batch = KillAfterCommits(store.commit_batch, kill, os.environ["FAULT_KILL_MARKER"])


if os.environ.get("LAMBDA_TASK_ROOT"):   # preloaded by a local cloud worker
    arm_from_environment()


def silent_child(conn, *args):
    """A fetch child that stays alive and never answers (a stuck child), for fetch_pool's deadline test. At module
    level: the forkserver unpickles the target by name."""
    import time
    time.sleep(60)


# A lock of the kind libraries keep at module level without an at-fork handler (unlike logging's).
PROBE_LOCK = threading.Lock()


def lock_probe_child(conn, *args):
    """A fetch child that takes PROBE_LOCK, then answers every batch: it hangs if it was forked while another
    thread of the parent held that lock."""
    with PROBE_LOCK:
        pass
    while True:
        request = conn.recv()
        if request is None:
            return
        conn.send(("ok", request[0], "probe"))


def dying_child(conn, *args):
    """A fetch child that dies at once, as if killed (no answer, no clean exit)."""
    os._exit(137)
