"""Runs functions the way Lambda does: a pool of warm worker processes per function, bounded
concurrency, the Timeout enforced by killing the worker, every invocation logged.

Workers are isolated by default (`python -I -S`, sys.path = code folder, layers, the function's
own requirements and the runtime's boto3: see sites.py); idle ones are checked before use and
retired after `idle_timeout` seconds, and a pool's warm workers can be replaced (hot reload).
From the second cold start of an interpreter on, an isolated environment is forked from a zygote that imported the
standard library once (zygote.py)."""
import atexit
import collections
import itertools
import json
import logging
import os
import queue
import signal
import subprocess
import threading
import time
import uuid

from . import interpreters, sites
from .model import InvocationError
from .zygote import Zygote, ZygoteError

DEFAULT_CONCURRENCY = 10
DEFAULT_IDLE_TIMEOUT = 600  # seconds an unused execution environment is kept warm (Lambda: minutes)
INIT_TIMEOUT = 10  # Lambda's limit for the init phase (imports) of an execution environment
WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "VIRTUAL_ENV")
log = logging.getLogger("localcloud.runtime")


def _module_names(folder):
    """The top-level module names a folder on sys.path provides (packages, .py files, extension modules)."""
    try:
        entries = os.listdir(folder)
    except OSError:
        return set()
    return {entry.split(".", 1)[0] for entry in entries if not entry.endswith((".dist-info", ".egg-info", ".pth"))}


class Zygotes:
    """The zygotes (zygote.py) of this process, one per interpreter, shared by every runtime in it.

    A cold start of an interpreter that has no zygote yet is a fresh process, which says which standard modules it
    imported; from the next cold start on, the environment is forked from a zygote that imported those once. A
    zygote that fails (refuses, dies, does not answer) is not tried again: fresh processes start, as before."""

    def __init__(self):
        self._lock = threading.Lock()
        self._learned = {}       # interpreter -> the standard modules its cold starts imported
        self._running = {}       # interpreter -> Zygote
        self._starting = threading.Lock()    # held while a zygote starts (imports): one start at a time
        self._failed = set()

    def learn(self, executable, ready):
        """Note the standard modules a cold start imported, from its ready line ({"standard": [name, ...]})."""
        with self._lock:
            if executable not in self._running:
                self._learned.setdefault(executable, set()).update(ready.get("standard", ()))

    def fork(self, executable, env, cwd, folders):
        """A Forked environment from the zygote of `executable`, started if need be; None to start a fresh process
        (nothing learned yet, a failed zygote, or one of `folders` (the function's sys.path) holds a module named
        like a preloaded standard one: there the function's own would be imported, not the zygote's)."""
        with self._lock:
            if executable in self._failed or not self._learned.get(executable):
                return None
            preload = set(self._learned[executable])
        standard = {name.split(".", 1)[0] for name in preload}
        if any(_module_names(folder) & standard for folder in folders):
            return None
        with self._starting:
            with self._lock:
                zygote = self._running.get(executable)
            if zygote is None or not zygote.alive:
                try:
                    zygote = Zygote(executable, preload, {k: os.environ[k] for k in PASSED_THROUGH if k in os.environ})
                except (OSError, ZygoteError) as exc:
                    with self._lock:
                        self._failed.add(executable)
                    log.warning("no zygote for %s: %s; environments start as fresh processes", executable, exc)
                    return None
                with self._lock:
                    self._running[executable] = zygote
        try:
            return zygote.fork(env, cwd)
        except ZygoteError as exc:
            with self._lock:
                self._failed.add(executable)
                self._running.pop(executable, None)
            zygote.close()
            log.warning("the zygote for %s failed: %s; environments start as fresh processes", executable, exc)
            return None

    def close(self):
        with self._lock:
            running, self._running = list(self._running.values()), {}
        for zygote in running:
            zygote.close()


ZYGOTES = Zygotes()
atexit.register(ZYGOTES.close)


class Worker:
    """One execution environment (a python process running local.worker, or forked from a zygote)."""

    def __init__(self, fn, env, isolated=True, generation=0, zygotes=None):
        self.fn = fn
        self.replies = queue.Queue()
        self.ready = False
        self.generation = generation
        self.last_used = time.monotonic()
        self.request_id = None      # the invocation its log lines belong to
        self.executable = interpreters.executable(fn.runtime, isolated)
        self.zygotes = (zygotes or ZYGOTES) if isolated else None
        folders = [p for p in env.get("LOCAL_SYS_PATH", "").split(os.pathsep) if p]
        self.proc = self.zygotes.fork(self.executable, env, str(fn.code_dir), folders) if self.zygotes else None
        if self.proc is None:
            # -I -S: no site-packages, no PYTHON* variables, no script folder; the worker builds sys.path itself.
            flags = ["-I", "-S", "-u"] if isolated else ["-u"]
            self.proc = subprocess.Popen(
                [self.executable, *flags, WORKER], env=env, cwd=str(fn.code_dir),
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
            flog.info(line.rstrip("\n"), extra={"function": self.fn.logical_id, "request_id": self.request_id})

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
        """Send one invocation and wait for its reply; raises InvocationError on timeout or death,
        WorkerGone if the request could not even be handed over (the worker died while idle)."""
        self.request_id = request["request_id"]
        if not self.ready:
            ready = self._wait(INIT_TIMEOUT, "Init")
            self.ready = True
            if self.zygotes is not None:
                self.zygotes.learn(self.executable, ready)
            request["deadline"] = time.time() + timeout
        try:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self.kill()
            raise WorkerGone() from None
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


class WorkerGone(Exception):
    """An idle worker died before it was handed the request: the request can go to a new one."""


class FunctionPool:
    """Warm workers for one function; at most `concurrency` invocations at once."""

    observers = ()      # set by Runtime: callables told about every finished invocation

    def __init__(self, fn, base_env, region, isolated=True):
        self.fn = fn
        self.concurrency = fn.reserved_concurrency or DEFAULT_CONCURRENCY
        self.slots = threading.BoundedSemaphore(self.concurrency)
        self.throttled = collections.deque(maxlen=10000)   # when an invocation found every slot taken
        self.idle = []
        self.lock = threading.Lock()
        self.isolated = isolated
        self.base_env, self.region = base_env, region
        self.generation = 0
        self.env = self._environment(base_env, region)
        self.arn = f"arn:aws:lambda:{region}:123456789012:function:{fn.logical_id}"

    def _sys_path(self):
        dirs = [str(self.fn.code_dir)] + [str(d) for d in self.fn.layer_dirs]
        if self.isolated:
            site = sites.function_site(self.fn.code_dir, self.fn.layer_dirs, self.fn.logical_id)
            dirs += ([str(site)] if site else []) + [str(sites.runtime_site())]
        return os.pathsep.join(dirs)

    def _environment(self, base_env, region):
        env = {k: os.environ[k] for k in PASSED_THROUGH if k in os.environ}
        env.update(base_env)
        env.update({
            "AWS_REGION": region, "AWS_DEFAULT_REGION": region, "TZ": "UTC",
            "AWS_LAMBDA_FUNCTION_NAME": self.fn.logical_id, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.fn.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "LAMBDA_TASK_ROOT": str(self.fn.code_dir),
            "_HANDLER": self.fn.handler, "PYTHONUNBUFFERED": "1",
            "LOCAL_SYS_PATH": self._sys_path(),
        })
        env.update(self.fn.environment)
        return env

    def invoke(self, event, trigger):
        """Run the handler once with event; returns its result or raises InvocationError."""
        if not self.slots.acquire(blocking=False):
            self.throttled.append(time.time())     # what AWS counts as a Throttle (the console's alarms)
            log.warning("%s throttled (%d running); waiting for a slot", self.fn.logical_id, self.concurrency)
            self.slots.acquire()
        try:
            return self._invoke(event, trigger)
        finally:
            self.slots.release()

    def _warm_worker(self):
        """A live idle worker of the current code, or None; dead ones (killed while idle) are dropped."""
        while True:
            with self.lock:
                worker = self.idle.pop() if self.idle else None
            if worker is None or worker.alive():
                return worker
            log.warning("%s: an idle execution environment died (exit %s); starting a new one",
                        self.fn.logical_id, worker.proc.returncode)
            worker.kill()

    def _new_worker(self):
        with self.lock:
            fn, env, generation = self.fn, self.env, self.generation
        return Worker(fn, env, self.isolated, generation)

    def _invoke(self, event, trigger):
        request_id = str(uuid.uuid4())
        started = time.time()
        request = {"event": event, "request_id": request_id, "function_name": self.fn.logical_id, "arn": self.arn,
                   "memory": self.fn.memory, "deadline": started + self.fn.timeout}
        worker = self._warm_worker()
        cold = worker is None
        try:
            try:
                worker = worker or self._new_worker()
                reply = worker.call(dict(request), self.fn.timeout)
            except WorkerGone:
                cold = True  # died between the check and the hand-over: the request never reached it
                worker = self._new_worker()
                reply = worker.call(dict(request), self.fn.timeout)
        except WorkerGone:
            exc = InvocationError("execution environment is gone", "Runtime.ExitError")
            self._report(trigger, request_id, started, cold, exc.error_type, str(exc))
            raise exc from None
        except InvocationError as exc:
            self._report(trigger, request_id, started, cold, exc.error_type, str(exc), event=event)
            raise
        self._release(worker)
        if not reply["ok"]:
            self._report(trigger, request_id, started, cold, reply["error_type"], reply["message"], reply["trace"],
                         event=event)
            raise InvocationError(reply["message"], reply["error_type"], reply["trace"])
        self._report(trigger, request_id, started, cold, event=event)
        return reply["result"]

    def _report(self, trigger, request_id, started, cold, error_type=None, message="", trace="", event=None):
        ms = (time.time() - started) * 1000
        line = "REPORT %s trigger=%s request=%s duration=%.1fms%s" % (
            self.fn.logical_id, trigger, request_id[:8], ms, " cold" if cold else "")
        fields = {"function": self.fn.logical_id, "request_id": request_id, "trigger": trigger,
                  "duration_ms": round(ms, 1), "cold": cold, "error_type": error_type}
        if error_type:
            log.error("%s error=%s: %s\n%s", line, error_type, message, trace.rstrip(), extra=fields)
        else:
            log.info(line, extra=fields)
        self._notify(dict(fields, started=started, message=message, trace=trace, event=event))

    def _notify(self, record):
        for observer in self.observers:
            try:
                observer(record)
            except Exception:  # a broken observer (console, bench) must never fail an invocation
                log.exception("invocation observer %r failed", observer)

    def _release(self, worker):
        worker.last_used = time.monotonic()
        with self.lock:
            keep = worker.alive() and worker.generation == self.generation
            if keep:
                self.idle.append(worker)
        if not keep:
            worker.kill()

    def replace_workers(self, fn=None):
        """New code or settings: idle workers stop now, busy ones when they finish; the next invocation
        starts a new execution environment (with a new Function definition if given)."""
        with self.lock:
            if fn is not None:
                self.fn = fn
        env = self._environment(self.base_env, self.region)  # may install a changed requirements set
        with self.lock:
            self.env = env
            self.generation += 1
            workers, self.idle = self.idle, []
        for worker in workers:
            worker.kill()
        return len(workers)

    def retire_idle(self, idle_timeout):
        """Stop workers unused for idle_timeout seconds, as Lambda reclaims idle environments."""
        cutoff = time.monotonic() - idle_timeout
        with self.lock:
            old = [w for w in self.idle if w.last_used <= cutoff]
            self.idle = [w for w in self.idle if w.last_used > cutoff]
        for worker in old:
            worker.kill()
        if old:
            log.info("%s: retired %d idle execution environment(s)", self.fn.logical_id, len(old))
        return len(old)

    def close(self):
        """Stop every idle worker."""
        with self.lock:
            workers, self.idle = self.idle, []
        for worker in workers:
            worker.kill()


class Runtime:
    """All functions of a stack; invoke(function_id, event, trigger) is what gateways and pollers call."""

    def __init__(self, functions, base_env, region="us-east-1", isolated=True, idle_timeout=DEFAULT_IDLE_TIMEOUT):
        self.pools = {fid: FunctionPool(fn, base_env, region, isolated) for fid, fn in functions.items()}
        self.observers = []     # observer(record) after every invocation: function, request_id, trigger,
        for pool in self.pools.values():    # duration_ms, cold, error_type, message, trace, started, event
            pool.observers = self.observers
        self.counter = itertools.count()
        self.idle_timeout = idle_timeout
        self._stop = threading.Event()
        self._reaper = threading.Thread(target=self._retire_loop, name="runtime-reaper", daemon=True)
        self._reaper.start()

    def _retire_loop(self):
        while not self._stop.wait(min(max(self.idle_timeout / 4, 0.05), 30)):
            for pool in list(self.pools.values()):
                pool.retire_idle(self.idle_timeout)

    def invoke(self, function_id, event, trigger="invoke"):
        """Invoke a function synchronously; raises InvocationError if it failed."""
        try:
            pool = self.pools[function_id]
        except KeyError:
            raise InvocationError(f"function {function_id} is not running locally", "ResourceNotFound") from None
        return pool.invoke(event, trigger)

    def close(self):
        """Stop all workers."""
        self._stop.set()
        for pool in self.pools.values():
            pool.close()
