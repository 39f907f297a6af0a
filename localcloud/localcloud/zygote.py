"""Warm starts of execution environments: a process that has imported the standard library once forks new ones.

A cold start in a fresh `python -I -S` spends 0.35-0.45 s of CPU on imports, and a test run starts hundreds. About
half of that is the standard library (asyncio, email, http, ssl, logging, json... whatever chalice, boto3 and the
function import of it), the same for every function of one interpreter. A zygote is a process per interpreter
that imports those standard modules once, then forks a new execution environment whenever the runtime asks: the
child takes the pipes the runtime made for it, the function's environment and folder, starts a session of its own,
and runs worker.py's main(), which builds sys.path and imports the function's code and packages as a cold start
does. Measured on a product function: 0.19-0.27 CPU-s forked against 0.36-0.46 fresh.

What the child shares with a fresh process: its own pid and session (the runtime kills its process group), its own
pipes, environment (the time zone read again) and working folder, sys.path built by worker.py the same way, every
package and every module of the function imported from its own folders. What differs: standard modules are already
imported, and their import time is not in the child's init. Only the standard library is preloaded, never a site
package: the function's site folder and the runtime's pin their own versions (botocore, urllib3), and which one a
name resolves to depends on the function's sys.path. A function whose folders hold a module named like a preloaded
standard one (a backport, a `types.py`) starts as a fresh process (runtime.Zygotes checks), and so does every
function if a standard module started a thread while importing (forking it would copy a lock another thread held).

The runtime (runtime.Zygotes) starts the zygote at the second cold start of an interpreter in this process, with
the standard modules the earlier cold starts imported; the zygote ends when the process that started it closes its
end of the socket (or dies).
"""
import gc
import importlib
import importlib.util
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")
START_TIMEOUT = 30.0      # for the zygote's imports and its first answer; a fork is answered in milliseconds


# ---- the zygote process ----------------------------------------------------------------------------------------

def _reap(sock):
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _send(sock, {"exit": pid, "code": os.waitstatus_to_exitcode(status)})


def _send(sock, message):
    try:
        sock.send(json.dumps(message).encode())
    except OSError:
        pass        # the runtime is gone: the loop ends at the socket's EOF


def _child(sock, wake, request, fds):
    """In the forked child: become the execution environment the runtime asked for; never returns."""
    code = 1
    try:
        os.setsid()
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        sock.close()
        for fd in wake:
            os.close(fd)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        time.tzset()        # TZ (Lambda sets :UTC) is read at the interpreter's start: read it again
        sys.argv = [WORKER]
        spec = importlib.util.spec_from_file_location("localcloud_worker", WORKER)
        worker = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(worker)
        worker.main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def serve(sock, preload, folders=()):
    """Import the standard modules `preload` (`folders` searched first: tests), then fork an environment for each
    request on sock until it closes."""
    saved = list(sys.path)
    sys.path[:0] = folders
    for name in preload:
        try:
            importlib.import_module(name)
        except Exception:     # the child imports it again and sees the error where the function does
            pass
    sys.path[:] = saved
    # The preloaded heap into the permanent generation: a child's collections then never walk it, nor write to
    # (and so copy) its pages.
    gc.freeze()
    if threading.active_count() > 1:
        _send(sock, {"refused": "a preloaded package started a thread"})
        return
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    signal.set_wakeup_fd(write_end)
    signal.signal(signal.SIGCHLD, lambda *_: None)     # set_wakeup_fd wakes the select below
    _send(sock, {"ready": os.getpid()})
    sys.stdout.flush()
    sys.stderr.flush()
    while True:
        ready = select.select([sock, read_end], [], [])[0]
        if read_end in ready:
            os.read(read_end, 4096)
            _reap(sock)
        if sock not in ready:
            continue
        data, fds, _flags, _addr = socket.recv_fds(sock, 1 << 20, 3)
        if not data:
            return
        pid = os.fork()
        if pid == 0:
            _child(sock, (read_end, write_end), json.loads(data), fds)
        for fd in fds:
            os.close(fd)
        _send(sock, {"pid": pid})
        _reap(sock)


def main():
    sock = socket.socket(fileno=int(os.environ.pop("LOCAL_ZYGOTE_FD")))
    serve(sock, json.loads(os.environ.pop("LOCAL_ZYGOTE_PRELOAD")),
          [p for p in os.environ.pop("LOCAL_ZYGOTE_FOLDERS").split(os.pathsep) if p])


# ---- the runtime's side ----------------------------------------------------------------------------------------

class ZygoteError(Exception):
    """The zygote could not start or fork: the runtime starts the environment as a fresh process instead."""


class Forked:
    """A forked execution environment, with what runtime.Worker uses of a subprocess.Popen."""

    def __init__(self, pid, stdin, stdout, stderr, exited):
        self.pid = pid
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        self.returncode = None
        self._exited = exited       # threading.Event set, with .code, when the zygote reaps it
        self._pidfd = os.pidfd_open(pid)    # readable once it has ended, whoever reaps it

    def poll(self):
        if self.returncode is None and not self._reaped():
            if not select.select([self._pidfd], [], [], 0)[0]:
                return None
        return self._code()

    def wait(self, timeout=None):
        if self.returncode is None and not self._reaped():
            if not select.select([self._pidfd], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(WORKER, timeout)
        return self._code()

    def _reaped(self):
        return self._exited.is_set() and self._exited.code is not None

    def _code(self):
        if self.returncode is None:
            self._exited.wait(2.0)      # it has ended: its status is on its way from the zygote (if still there)
            code = self._exited.code
            self.returncode = -1 if code is None else code     # -1: the zygote is gone and never said
            os.close(self._pidfd)
        return self.returncode


class Zygote:
    """The runtime's handle on one zygote process (one interpreter); fork(env, cwd) -> Forked."""

    def __init__(self, executable, preload, base_env, folders=()):
        self._sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = dict(base_env, LOCAL_ZYGOTE_FD=str(theirs.fileno()), LOCAL_ZYGOTE_PRELOAD=json.dumps(sorted(preload)),
                   LOCAL_ZYGOTE_FOLDERS=os.pathsep.join(folders))
        try:
            self.proc = subprocess.Popen([executable, "-I", "-S", "-u", __file__], env=env, pass_fds=(theirs.fileno(),),
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True)
        finally:
            theirs.close()
        self._lock = threading.Lock()       # one fork at a time: its answer is the next message but exits
        self._answers = []
        self._answered = threading.Condition()
        self._exits = {}                    # pid -> Event of a live child
        self._early = {}                    # pid -> exit code reported before fork() filed the child
        self.alive = True
        self._sock.settimeout(START_TIMEOUT)
        try:
            hello = json.loads(self._sock.recv(1 << 16) or b"{}")
        except (OSError, ValueError) as exc:
            self.close()
            raise ZygoteError(f"the zygote did not start: {exc}") from None
        if "ready" not in hello:
            self.close()
            raise ZygoteError(hello.get("refused") or "the zygote ended while importing")
        self._sock.settimeout(None)
        threading.Thread(target=self._read, name="zygote-reader", daemon=True).start()

    def _read(self):
        while True:
            try:
                data = self._sock.recv(1 << 16)
            except OSError:
                data = b""
            if not data:
                break
            message = json.loads(data)
            with self._answered:
                if "exit" in message:
                    event = self._exits.pop(message["exit"], None)
                    if event is None:
                        self._early[message["exit"]] = message["code"]
                    else:
                        event.code = message["code"]
                        event.set()
                else:
                    self._answers.append(message)
                    self._answered.notify_all()
        with self._answered:
            self.alive = False
            self._answered.notify_all()
            for event in self._exits.values():
                event.set()     # no status will come: Forked reports -1 once the process has ended

    def fork(self, env, cwd):
        """A new execution environment with pipes like subprocess.Popen(text=True, bufsize=1) gives."""
        stdin_r, stdin_w = os.pipe()
        stdout_r, stdout_w = os.pipe()
        stderr_r, stderr_w = os.pipe()
        try:
            with self._lock:
                exited = threading.Event()
                exited.code = None
                with self._answered:
                    socket.send_fds(self._sock, [json.dumps({"env": env, "cwd": cwd}).encode()],
                                    [stdin_r, stdout_w, stderr_w])
                    if not self._answered.wait_for(lambda: self._answers or not self.alive, START_TIMEOUT):
                        raise ZygoteError("the zygote did not answer")
                    if not self._answers:
                        raise ZygoteError("the zygote is gone")
                    pid = self._answers.pop(0)["pid"]
                    if pid in self._early:
                        exited.code = self._early.pop(pid)
                        exited.set()
                    else:
                        self._exits[pid] = exited
        except (OSError, ZygoteError):
            for fd in (stdin_r, stdin_w, stdout_r, stdout_w, stderr_r, stderr_w):
                os.close(fd)
            self.alive = False
            raise ZygoteError("the zygote could not fork") from None
        for fd in (stdin_r, stdout_w, stderr_w):
            os.close(fd)
        return Forked(pid, open(stdin_w, "w", buffering=1), open(stdout_r), open(stderr_r), exited)

    def close(self):
        """End the zygote (its children live on until the runtime stops them)."""
        self.alive = False
        try:
            # shutdown, not only close: the reader thread's recv() holds the socket open until it returns
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


if __name__ == "__main__":
    main()
