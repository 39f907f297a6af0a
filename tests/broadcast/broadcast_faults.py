"""Faults for broadcast's crash tests and the recovery bench, injected from outside the product.

A local cloud worker preloads this file (LOCAL_PRELOAD, given with start_cloud(env=...)); with
FAULT_HANG_AFTER_SEND_MARKER set, the first ChatApp send of the whole run reaches ChatApp and then hangs: the
marker file (created exclusively, holding the worker's pid) tells the test whom to SIGKILL mid-call. Every later
send (a new worker, or another marker holder) goes through untouched.
"""
import importlib
import os
import sys
import time


def arm_from_environment():
    marker = os.environ.get("FAULT_HANG_AFTER_SEND_MARKER")
    if not marker:
        return
    chatapp = importlib.import_module("chalicelib.chatapp")
    real = chatapp.ChatApp.send_text

    def send_text(self, *args, **kwargs):
        result = real(self, *args, **kwargs)     # ChatApp has the message: a resend would be a duplicate
        try:
            fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return result
        with os.fdopen(fd, "w") as out:
            out.write(str(os.getpid()))
        print(f"simulated hang after a send in pid {os.getpid()}", file=sys.stderr, flush=True)
        time.sleep(3600)    # the test kills us meanwhile
        return result

    chatapp.ChatApp.send_text = send_text


if os.environ.get("LAMBDA_TASK_ROOT"):   # preloaded by a local cloud worker
    arm_from_environment()
