"""Runs functions the way Lambda does: a pool of warm worker processes per function, bounded
concurrency, the Timeout enforced by killing the worker, every invocation logged."""
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid

from .model import InvocationError

DEFAULT_CONCURRENCY = 10
INIT_TIMEOUT = 10  # Lambda's limit for the init phase (imports) of an execution environment
WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "VIRTUAL_ENV")
log = logging.getLogger("local.runtime")


class Worker:
    """One execution environment (a python process running local.worker)."""

    def __init__(self, fn, env):
        self.fn = fn
        self.replies = queue.Queue()
        self.ready = False
        self.proc = subprocess.Popen(
            [sys.executable, "-u", WORKER], env=env, cwd=str(fn.code_dir),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
            start_new_session=True)
        flog = logging.getLogger(f"fn.{fn.logical_id}")
        threading.Thread(target=self._read_replies, daemon=True).start()
        threading.Thread(target=self._forward_logs, args=(flog,), daemon=True).start()

    def _read_replies(self):
        for line in self.proc.stdout:
            self.replies.put(line)
        self.replies.put(None)

    def _forward_logs(self, flog):
        for line in self.proc.stderr:
            flog.info(line.rstrip("\n"))

    def _wait(self, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.replies.get(timeout=min(0.2, max(deadline - time.monotonic(), 0)))
                break
            except queue.Empty:
                pass
            # A killed handler may leave forked children holding the pipe open: watch the process itself.
            if not self.alive():
                try:  # what it wrote before dying is still on its way through the reader thread
                    line = self.replies.get(timeout=1.0)
                except queue.Empty:
                    line = None
                break
            if time.monotonic() >= deadline:
                self.kill()
                raise InvocationError(f"{what} timed out after {timeout:.2f} seconds", "Sandbox.Timedout")
        if line is None:
            code = self.proc.wait()
            self.kill()
            raise InvocationError(f"Runtime exited with error: exit status {code}", "Runtime.ExitError")
        return json.loads(line)

    def call(self, request, timeout):
        """Send one invocation and wait for its reply; raises InvocationError on timeout or death."""
        if not self.ready:
            self._wait(INIT_TIMEOUT, "Init")
            self.ready = True
            request["deadline"] = time.time() + timeout
        try:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise InvocationError("execution environment is gone", "Runtime.ExitError") from None
        return self._wait(timeout, "Task")

    def alive(self):
        """True while the process runs."""
        return self.proc.poll() is None

    def kill(self):
        """Stop the execution environment at once: the process and anything it forked, as Lambda does."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()


class FunctionPool:
    """Warm workers for one function; at most `concurrency` invocations at once."""

    def __init__(self, fn, base_env, region):
        self.fn = fn
        self.concurrency = fn.reserved_concurrency or DEFAULT_CONCURRENCY
        self.slots = threading.BoundedSemaphore(self.concurrency)
        self.idle = []
        self.lock = threading.Lock()
        self.env = self._environment(base_env, region)
        self.arn = f"arn:aws:lambda:{region}:123456789012:function:{fn.logical_id}"

    def _environment(self, base_env, region):
        env = {k: os.environ[k] for k in PASSED_THROUGH if k in os.environ}
        env.update(base_env)
        env.update({
            "AWS_REGION": region, "AWS_DEFAULT_REGION": region, "TZ": "UTC",
            "AWS_LAMBDA_FUNCTION_NAME": self.fn.logical_id, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.fn.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "LAMBDA_TASK_ROOT": str(self.fn.code_dir),
            "_HANDLER": self.fn.handler, "PYTHONUNBUFFERED": "1",
            "LOCAL_LAYER_DIRS": os.pathsep.join(str(d) for d in self.fn.layer_dirs),
        })
        env.update(self.fn.environment)
        return env

    def invoke(self, event, trigger):
        """Run the handler once with event; returns its result or raises InvocationError."""
        if not self.slots.acquire(blocking=False):
            log.warning("%s throttled (%d running); waiting for a slot", self.fn.logical_id, self.concurrency)
            self.slots.acquire()
        try:
            return self._invoke(event, trigger)
        finally:
            self.slots.release()

    def _invoke(self, event, trigger):
        with self.lock:
            worker = self.idle.pop() if self.idle else None
        cold = worker is None
        if cold:
            worker = Worker(self.fn, self.env)
        request_id = str(uuid.uuid4())
        started = time.time()
        request = {"event": event, "request_id": request_id, "function_name": self.fn.logical_id, "arn": self.arn,
                   "memory": self.fn.memory, "deadline": started + self.fn.timeout}
        try:
            reply = worker.call(request, self.fn.timeout)
        except InvocationError as exc:
            self._report(trigger, request_id, started, cold, exc.error_type, str(exc))
            raise
        if worker.alive():
            with self.lock:
                self.idle.append(worker)
        if not reply["ok"]:
            self._report(trigger, request_id, started, cold, reply["error_type"], reply["message"], reply["trace"])
            raise InvocationError(reply["message"], reply["error_type"], reply["trace"])
        self._report(trigger, request_id, started, cold)
        return reply["result"]

    def _report(self, trigger, request_id, started, cold, error_type=None, message="", trace=""):
        ms = (time.time() - started) * 1000
        line = "REPORT %s trigger=%s request=%s duration=%.1fms%s" % (
            self.fn.logical_id, trigger, request_id[:8], ms, " cold" if cold else "")
        if error_type:
            log.error("%s error=%s: %s\n%s", line, error_type, message, trace.rstrip())
        else:
            log.info(line)

    def close(self):
        """Stop every idle worker."""
        with self.lock:
            workers, self.idle = self.idle, []
        for worker in workers:
            worker.kill()


class Runtime:
    """All functions of a stack; invoke(function_id, event, trigger) is what gateways and pollers call."""

    def __init__(self, functions, base_env, region="us-east-1"):
        self.pools = {fid: FunctionPool(fn, base_env, region) for fid, fn in functions.items()}

    def invoke(self, function_id, event, trigger="invoke"):
        """Invoke a function synchronously; raises InvocationError if it failed."""
        try:
            pool = self.pools[function_id]
        except KeyError:
            raise InvocationError(f"function {function_id} is not running locally", "ResourceNotFound") from None
        return pool.invoke(event, trigger)

    def close(self):
        """Stop all workers."""
        for pool in self.pools.values():
            pool.close()
