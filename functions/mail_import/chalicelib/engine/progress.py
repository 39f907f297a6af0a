"""Live import events to the account's open pages over the WebSocket API, throttled, off the import's path.

A background thread sends at most every INTERVAL seconds: new rows first, then the latest
progress, then (once) the final done/error event. Connections that are gone are forgotten.
"""
import json
import threading

from common import aws
from common.log import get_logger

from .. import connections, settings

log = get_logger(__name__)
MAX_PAYLOAD = 96 * 1024          # under API Gateway's 128 KB per message


def job_event(job):
    """The progress event describing a job row."""
    folders = job.get("folders") or []
    index = job.get("folder_index") or 0
    return {"type": "progress", "state": job["state"], "phase": job["phase"],
            "folder": folders[index] if index < len(folders) else None, "checked": job["checked"],
            "total": job["total"], "remaining": job["remaining"], "imported": job["imported"],
            "error": job.get("error"), "error_message": job.get("error_message"),
            # A chunk died or failed and its retry has not committed yet (or the holder stopped renewing its lease).
            "interrupted": bool(job.get("interrupted")) and job["state"] in ("queued", "running"),
            "cancelling": bool(job.get("cancel_requested")) and job["state"] in ("queued", "running")}


def row_payloads(rows):
    """'rows' events carrying rows, each under MAX_PAYLOAD bytes."""
    out, batch, size = [], [], 0
    for row in rows:
        encoded = len(json.dumps(row, ensure_ascii=False).encode("utf-8")) + 1
        if batch and size + encoded > MAX_PAYLOAD - 64:
            out.append(json.dumps({"type": "rows", "rows": batch}, ensure_ascii=False))
            batch, size = [], 0
        batch.append(row)
        size += encoded
    if batch:
        out.append(json.dumps({"type": "rows", "rows": batch}, ensure_ascii=False))
    return out


class Notifier:
    """Collects progress and rows from the import and pushes them from its own thread."""

    def __init__(self, account_id, every=None):
        self.account_id = account_id
        self.every = settings.load().push_interval if every is None else every
        self._lock = threading.Lock()
        self._progress = None
        self._rows = []
        self._final = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mail-import-notifier", daemon=True)
        self._thread.start()

    def progress(self, event):
        """Replace the latest progress event (only the newest is worth sending)."""
        with self._lock:
            self._progress = event

    def rows(self, rows):
        """Queue rows of newly stored messages."""
        if rows:
            with self._lock:
                self._rows.extend(rows)

    def close(self, final=None):
        """Send what is pending plus the final event, then stop the thread."""
        with self._lock:
            self._final = final
        self._stop.set()
        self._thread.join(30)

    def _run(self):
        while True:
            stopping = self._stop.wait(self.every)
            try:
                self._send_pending()
            except Exception:
                log.exception("pushing import progress failed")  # progress is best effort; the import goes on
            if stopping:
                return

    def _take(self):
        with self._lock:
            rows, progress, final = self._rows, self._progress, self._final
            self._rows, self._progress, self._final = [], None, None
        return rows, [e for e in (progress, final) if e]

    def _send_pending(self):
        rows, events = self._take()
        if not rows and not events:
            return
        # Looked up after taking the rows and events: a page that connects later catches up from the
        # database when it subscribes, so no row falls between the two.
        receivers = connections.of_account(self.account_id)
        if not receivers:
            return   # nobody to tell: the rows are not even encoded (most imports run with no page open)
        payloads = row_payloads(rows) + [json.dumps(e, ensure_ascii=False, default=str) for e in events]
        for connection_id in receivers:
            if not all(aws.push(connection_id, p) for p in payloads):
                connections.forget_gone(connection_id)
