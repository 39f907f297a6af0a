"""Hot reload for a running local cloud: saving a file under a function's CodeUri or one of its
layers replaces that function's warm workers, so the next invocation runs the new code.

Polls modification times (no extra dependency). A template.yaml change is re-read: changes to a
running function's handler, environment, timeout or memory are applied live (its workers are
replaced); anything else (APIs, routes, queues, schedules, new or removed functions) is reported
as needing a restart.
"""
import importlib.util
import logging
import os
import threading
from pathlib import Path

from .template import TemplateError

log = logging.getLogger("localcloud.reload")
SKIPPED_DIRS = {"__pycache__", ".state", ".localcloud", ".aws-sam", ".git", ".pytest_cache"}


def snapshot(folder):
    """{file: (mtime_ns, size)} for every file under folder (bytecode caches and hidden folders left out)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d not in SKIPPED_DIRS and not d.startswith(".")]
        for name in filenames:
            if name.endswith((".pyc", ".pyo", ".swp")) or name.startswith(".#"):
                continue
            path = os.path.join(dirpath, name)
            try:
                st = os.stat(path)
            except FileNotFoundError:
                continue
            out[path] = (st.st_mtime_ns, st.st_size)
    return out


def _changed(before, after):
    return sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))


class Watcher:
    """Watches the code folders and layers of a Cloud's running functions, and its template."""

    def __init__(self, cloud, interval=1.0):
        self.cloud = cloud
        self.interval = interval
        self._stop = threading.Event()
        self._thread = None
        self._folders = {}
        self._template = None

    def start(self):
        """Take the first snapshot and poll in a daemon thread."""
        for folder in self._watched():
            self._folders[folder] = snapshot(folder)
        self._template = self._template_stamp()
        self._thread = threading.Thread(target=self._run, name="hot-reload", daemon=True)
        self._thread.start()
        log.info("hot reload: watching %d folder(s) and %s", len(self._folders), self.cloud.template_path)

    def stop(self):
        """Stop polling."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    def _watched(self):
        folders = set()
        for pool in self.cloud.runtime.pools.values():
            folders.add(Path(pool.fn.code_dir))
            folders.update(Path(d) for d in pool.fn.layer_dirs)
        return folders

    def _template_stamp(self):
        try:
            st = os.stat(self.cloud.template_path)
        except FileNotFoundError:
            return None
        return st.st_mtime_ns, st.st_size

    def _run(self):
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception:  # a watcher that dies silently is worse than one noisy poll
                log.exception("hot reload: check failed")

    def check(self):
        """One poll: reload what changed since the last one."""
        stamp = self._template_stamp()
        if stamp != self._template:
            self._template = stamp
            self._template_changed()
        for folder in sorted(self._watched()):
            before = self._folders.get(folder)
            after = snapshot(folder)
            self._folders[folder] = after
            if before is None:
                continue
            files = _changed(before, after)
            if files:
                self._code_changed(folder, files)

    def _code_changed(self, folder, files):
        affected = [fid for fid, pool in self.cloud.runtime.pools.items()
                    if folder == Path(pool.fn.code_dir) or folder in [Path(d) for d in pool.fn.layer_dirs]]
        shown = ", ".join(os.path.relpath(f, folder) for f in files[:5]) + (" ..." if len(files) > 5 else "")
        for path in files:
            _forget_bytecode(path)
        stopped = sum(self.cloud.runtime.pools[fid].replace_workers() for fid in affected)
        log.info("hot reload: %s changed (%s): %s run%s the new code from the next invocation "
                 "(%d warm worker(s) replaced)", folder, shown, ", ".join(affected),
                 "s" if len(affected) == 1 else "", stopped)

    def _template_changed(self):
        try:
            new = self.cloud.load_stack()
            new_functions = new.functions()
        except (TemplateError, OSError, KeyError, ValueError) as exc:
            log.error("hot reload: %s changed but does not load (%s); still running the previous version",
                      self.cloud.template_path, exc)
            return
        old = self.cloud.stack
        old_functions = old.functions()
        pools = self.cloud.runtime.pools
        restart = []
        for fid in sorted(set(new_functions) - set(old_functions)):
            restart.append(f"new function {fid}")
        for fid in sorted(set(old_functions) - set(new_functions)):
            restart.append(f"removed function {fid}")
        for fid in sorted(set(new_functions) & set(old_functions)):
            before, after = old_functions[fid], new_functions[fid]
            if before == after:
                continue
            if before.reserved_concurrency != after.reserved_concurrency:
                restart.append(f"{fid} ReservedConcurrentExecutions")
            elif fid in pools:
                pools[fid].replace_workers(after)
                log.info("hot reload: template.yaml: applied %s's new definition live (handler, environment, "
                         "timeout, memory, code and layers)", fid)
        for what, method in (("APIs and routes", "rest_apis"), ("WebSocket APIs", "ws_apis"),
                             ("SQS event sources", "sqs_mappings"), ("DynamoDB streams", "stream_mappings"),
                             ("Kinesis event sources", "kinesis_mappings"), ("Kinesis streams", "kinesis_streams"),
                             ("tables", "tables"), ("schedules", "schedules"),
                             ("queues", "queues"), ("buckets", "buckets"), ("outputs", "outputs"),
                             ("SNS topics", "topics"), ("SNS event sources", "sns_subscriptions"),
                             ("S3 event sources", "s3_notifications"), ("EventBridge rules", "event_rules")):
            if repr(getattr(old, method)()) != repr(getattr(new, method)()):
                restart.append(what)
        if restart:
            log.warning("hot reload: template.yaml changed: restart the local cloud (localcloud run) to apply: %s",
                        "; ".join(restart))
        self.cloud.stack = new if not restart else old


def _forget_bytecode(path):
    """A .pyc records its source's mtime in whole seconds and its size: an edit within the same second that
    keeps the size would otherwise run the old bytecode. Drop the cached file so the new source is compiled."""
    if not str(path).endswith(".py"):
        return
    try:
        os.remove(importlib.util.cache_from_source(str(path)))
    except (FileNotFoundError, NotImplementedError, ValueError):
        pass
