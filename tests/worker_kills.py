"""Deaths of a local cloud worker that are no fault of the data, injected from outside the product (what an
out-of-memory kill or a runtime crash does on AWS).

A worker preloads this file (LOCAL_PRELOAD, given with start_cloud(env=...)). FAULT_KILL_TARGET names the
product function to wrap as "module:attribute" (e.g. "chalicelib.reports.notifier:notify"); with
FAULT_KILLS_FILE set, each call first takes one kill from that file (a number, decremented atomically under an
exclusive lock) and, while any is left, SIGKILLs its own process before the work is even read.
"""
import fcntl
import importlib
import os
import signal
import sys


def take_kill(path):
    """True when a kill was left in the file (and is now taken)."""
    with open(path, "r+") as counter:
        fcntl.flock(counter, fcntl.LOCK_EX)
        left = int(counter.read().strip() or 0)
        if left <= 0:
            return False
        counter.seek(0)
        counter.truncate()
        counter.write(str(left - 1))
        counter.flush()
        os.fsync(counter.fileno())
        return True


def arm_from_environment():
    path, target = os.environ.get("FAULT_KILLS_FILE"), os.environ.get("FAULT_KILL_TARGET")
    if not (path and target):
        return
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    real = getattr(module, attribute)

    def killing(*args, **kwargs):
        if take_kill(path):
            print(f"simulated death in {target}, pid {os.getpid()}", file=sys.stderr, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)

    setattr(module, attribute, killing)


if os.environ.get("LAMBDA_TASK_ROOT"):   # preloaded by a local cloud worker
    arm_from_environment()
