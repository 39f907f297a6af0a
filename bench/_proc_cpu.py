"""CPU seconds of the processes that do a piece of work, read from /proc, whatever else the machine runs.

The whole machine's CPU counters (/proc/stat) also count the other jobs sharing the machine (tests, CI, other
benches): on a shared 2-core machine that noise can be as large as the work measured. This counts only:

- process trees (a root and its descendants): CPU(t) = sum over the tree's live processes of their own
  utime + stime plus the cutime + cstime of the children they reaped. A process that exits is reaped by its
  parent, also in the tree, so its whole life moves into the parent's reaped time: the difference between two
  readings is exact, with no sampling, for short-lived children too (fetch processes, Dovecot's imap sessions,
  mbsync itself). The tree's root must outlive the measurement.
- processes picked by their command line that are not our children (PostgreSQL backends of one database, the
  WAL writer): their own CPU time, read at the start, the end and every POLL seconds in between (a backend that
  lives less than POLL seconds can be missed; the import's connections live for the whole chunk). The poller's
  own CPU (it runs in the caller's process, usually a tree root) is subtracted.
"""
import os
import threading
import time

TICK = os.sysconf("SC_CLK_TCK")
POLL = 1.0


def _stat(pid):
    """(ppid, start time, own CPU ticks, reaped children's CPU ticks) of a process, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2:].split()   # after "pid (comm) ": the comm may hold spaces
    # fields[0] is field 3 (state): ppid 4, utime 14, stime 15, cutime 16, cstime 17, starttime 22
    return int(fields[1]), int(fields[19]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def _pids():
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def tree_ticks(roots):
    """CPU ticks of the processes under `roots` (pids) and of the children they reaped, as of now."""
    table = {}
    for pid in _pids():
        stat = _stat(pid)
        if stat is not None:
            table[pid] = stat
    children = {}
    for pid, (ppid, *_rest) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, todo, seen = 0, [pid for pid in roots if pid in table], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        _ppid, _start, own, reaped = table[pid]
        total += own + reaped
        todo += children.get(pid, [])
    return total


class Usage:
    """CPU seconds of named groups over a stretch of time: start(), then stop() -> {group: seconds}.

    trees: {group: callable returning the root pids}; picked: {group: callable(cmdline bytes) -> bool}."""

    def __init__(self, trees, picked):
        self.trees, self.picked = trees, picked
        self._stop = threading.Event()
        self._thread = None

    def _scan(self):
        for pid in _pids():
            for group, wanted in self.picked.items():
                if wanted(_cmdline(pid)):
                    stat = _stat(pid)
                    if stat is not None:
                        key = (pid, stat[1])
                        self._first.setdefault(key, (group, stat[2]))
                        self._last[key] = stat[2]

    def _poll(self):
        started = time.thread_time()
        while not self._stop.wait(POLL):
            self._scan()
        self._poller_cpu = time.thread_time() - started

    def start(self):
        self._first, self._last, self._poller_cpu = {}, {}, 0.0
        self._scan()
        # What existed before the start counts from its reading at the start; what came later, from zero.
        self._before = {key: ticks for key, (_group, ticks) in self._first.items()}
        self._tree_before = {group: tree_ticks(roots()) for group, roots in self.trees.items()}
        self._stop.clear()
        self._thread = threading.Thread(target=self._poll, name="cpu-usage-poller", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join()
        tree_after = {group: tree_ticks(roots()) for group, roots in self.trees.items()}
        self._scan()
        seconds = {group: (tree_after[group] - self._tree_before[group]) / TICK for group in self.trees}
        for group in self.picked:
            seconds[group] = 0.0
        for key, (group, _ticks) in self._first.items():
            seconds[group] += (self._last[key] - self._before.get(key, 0)) / TICK
        # The poller ran in this process, which is usually one of the trees' roots: its CPU is not the work's.
        seconds["poller (subtracted)"] = -self._poller_cpu
        return seconds


def postgres_backends(database):
    """A cmdline test for the PostgreSQL backends (and autovacuum workers) of one database."""
    token = f" {database} ".encode()
    return lambda cmdline: cmdline.startswith(b"postgres: ") and (token in cmdline or cmdline.endswith(token[:-1]))


def postgres_wal_writer(cmdline):
    return cmdline.startswith(b"postgres: ") and cmdline.rstrip(b"\x00 ").endswith(b"walwriter")
