"""Faults for notifications' crash tests, injected from outside the product.

A local cloud worker preloads this file (LOCAL_PRELOAD, given with start_cloud(env=...)); with FAULT_KILLS_FILE
set, each delivery handled by the sender first takes one kill from the file (a number, decremented atomically
under an exclusive lock) and, while any is left, SIGKILLs its own process before the message is even read: a
death that is no fault of the data (what an out-of-memory kill or a runtime crash does on AWS).
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
    path = os.environ.get("FAULT_KILLS_FILE")
    if not path:
        return
    sender = importlib.import_module("chalicelib.sending.sender")
    real = sender.handle

    def handle(*args, **kwargs):
        if take_kill(path):
            print(f"simulated death of the sender, pid {os.getpid()}", file=sys.stderr, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)

    sender.handle = handle


if os.environ.get("LAMBDA_TASK_ROOT"):   # preloaded by a local cloud worker
    arm_from_environment()
