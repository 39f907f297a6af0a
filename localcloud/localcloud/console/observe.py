"""What the console knows about the running cloud that no AWS API tells: every invocation (from the
runtime's observer hook) and every log line (a logging handler), kept in bounded memory."""
import collections
import logging
import threading
import time

from localcloud.logs import structured

from .redact import mask_query, mask_values

MAX_INVOCATIONS = 20000
MAX_LOG_LINES = 50000


class Changes:
    """A version number that goes up when something changes; SSE clients wait on it."""

    def __init__(self):
        self.version = 0
        self._cond = threading.Condition()

    def bump(self):
        with self._cond:
            self.version += 1
            self._cond.notify_all()

    def wait(self, seen, timeout):
        """The version once it differs from `seen`, or the same after `timeout` seconds."""
        with self._cond:
            self._cond.wait_for(lambda: self.version != seen, timeout)
            return self.version


class QueueCounts:
    """Whether the queue counts just read are news to the live pages (moto moves a message to its DLQ, or makes an
    in-flight one visible again, without an invocation or a log line that would tell them)."""

    def __init__(self):
        self._last = None
        self._joined = None

    def changed(self, counts, joined):
        """True for counts that differ from the last ones read, and for the first counts after a page opened its
        stream (`joined`: how many streams pages have opened so far). That page rendered counts this watcher may
        never have read: a message that came and went between two reads, or while no page listened and nothing was
        read. Compared with the counts from before, its going would never be told."""
        if joined != self._joined:
            self._joined, self._last = joined, None
        news, self._last = counts != self._last, counts
        return news


class Invocations:
    """Finished invocations, newest last; told by Runtime.observers."""

    def __init__(self, changes):
        self.changes = changes
        self._items = collections.deque(maxlen=MAX_INVOCATIONS)
        self._lock = threading.Lock()

    def __call__(self, record):
        event = record.get("event")
        item = {k: record.get(k) for k in ("function", "request_id", "trigger", "duration_ms", "cold",
                                           "error_type", "message", "trace", "started")}
        for key in ("trigger", "message", "trace"):    # an error may quote a URL with its token
            item[key] = mask_query(item[key])
        item["records"] = len(event["Records"]) if isinstance(event, dict) and isinstance(
            event.get("Records"), list) else None
        with self._lock:
            self._items.append(item)
        self.changes.bump()

    def recent(self, function=None, limit=50, trigger=None):
        with self._lock:
            items = list(self._items)
        out = [i for i in reversed(items) if (function is None or i["function"] == function)
               and (trigger is None or i["trigger"] == trigger)]
        return out[:limit]

    def find(self, request_id):
        with self._lock:
            return next((i for i in self._items if i["request_id"] == request_id), None)

    def stats(self, minutes):
        """Per function over the last `minutes`: invocations, errors, cold starts, p50 and p99 (ms)."""
        since = time.time() - minutes * 60
        with self._lock:
            items = [i for i in self._items if i["started"] >= since]
        by_fn = collections.defaultdict(list)
        for item in items:
            by_fn[item["function"]].append(item)
        return {fn: _summary(rows) for fn, rows in by_fn.items()}


def _summary(rows):
    durations = sorted(r["duration_ms"] for r in rows)
    return {"invocations": len(rows), "errors": sum(1 for r in rows if r["error_type"]),
            "cold": sum(1 for r in rows if r["cold"]), "p50": _quantile(durations, 0.50),
            "p99": _quantile(durations, 0.99)}


def _quantile(values, q):
    """Nearest-rank quantile of sorted values."""
    if not values:
        return None
    rank = max(1, -(-len(values) * q // 1))
    return values[int(rank) - 1]


class LogStore(logging.Handler):
    """Every log record of the process as a structured entry, newest last, searchable."""

    def __init__(self, changes):
        super().__init__(level=logging.DEBUG)
        self.changes = changes
        self._items = collections.deque(maxlen=MAX_LOG_LINES)
        self._seq = 0
        self._store_lock = threading.Lock()

    def emit(self, record):
        try:
            entry = mask_values(structured(record))     # kept masked: a logged URL may carry a token
        except Exception:
            return
        with self._store_lock:
            self._seq += 1
            entry["_seq"] = self._seq
            self._items.append(entry)
        self.changes.bump()

    def search(self, function=None, request_id=None, text=None, fields=None, level=None, limit=500):
        """Newest first. fields: {key: value} compared as text (mailing_id=42 matches 42 and "42")."""
        with self._store_lock:
            items = list(self._items)
        out = []
        needle = (text or "").lower()
        for entry in reversed(items):
            if function and entry.get("function") != function:
                continue
            if request_id and not str(entry.get("requestId", "")).startswith(request_id):
                continue
            if level and entry.get("level") != level:
                continue
            if fields and any(_text(entry.get(k)) != v for k, v in fields.items()):
                continue
            if needle and needle not in str(entry.get("message", "")).lower():
                continue
            out.append(entry)
            if len(out) >= limit:
                break
        return out


def _text(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def parse_query(query):
    """'mailing_id=42 level=ERROR failed' -> ({'mailing_id': '42', 'level': 'ERROR'}, 'failed')."""
    fields, words = {}, []
    for token in (query or "").split():
        key, sep, value = token.partition("=")
        if sep and key:
            fields[key] = value
        else:
            words.append(token)
    return fields, " ".join(words)
