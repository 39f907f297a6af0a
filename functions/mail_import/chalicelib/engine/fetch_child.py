"""The body of a fetch worker process: log in, then fetch/parse/upload the batches the parent sends."""
import gc
import os
import threading

from botocore.config import Config

from common import db
from common.log import get_logger

from . import imap_session, message_store
from .failures import ImportFailure
from .fetching import BatchWorker

log = get_logger(__name__)


PARENT_GONE = 70           # exit status of a child whose parent died


class LazyS3:
    """The child's own S3 client (boto3 clients must not be shared across processes), made when the first
    attachment is uploaded: making one costs a few hundred ms of CPU, and most batches of a sync have none."""

    def __init__(self):
        self._client = None
        self._lock = threading.Lock()      # the upload threads may ask at the same time

    def __getattr__(self, name):
        with self._lock:
            if self._client is None:
                # No CRC32 of every upload where S3 does not require one (the key already names the content), and
                # no SHA-256 of every body for the request's signature (botocore hashes it when there is no
                # checksum header, or over plain HTTP): the signature still covers the key and the headers.
                from . import s3_models   # preloaded in the forkserver: its parsed model data is inherited
                self._client = s3_models.session().client(
                    "s3", config=Config(request_checksum_calculation="when_required",
                                        s3={"payload_signing_enabled": False}))
        return getattr(self._client, name)


def watch_parent(alive):
    """Exit this process as soon as `alive` (a pipe end whose other end only the parent holds) ends."""
    def run():
        try:
            alive.recv()
        except (EOFError, OSError):
            pass
        os._exit(PARENT_GONE)   # the parent is gone: nobody wants what this process is doing
    threading.Thread(target=run, name="parent-watch", daemon=True).start()


def main(conn, alive, environ, server, folder, uidvalidity, account_id):
    """Serve (index, uids) requests from conn until None; answer ("ok", index, Result) or an error tuple.
    `alive`: the parent's lifeline (see fetch_pool); `environ`: the parent's environment at the chunk's start
    (the forkserver's own is from when it started), so settings and credentials are the parent's."""
    watch_parent(alive)
    os.environ.clear()
    os.environ.update(environ)
    session = worker = conn_db = None
    # The child starts with the forkserver's heap (boto3's service models, the app's modules): without
    # this, every full collection walks all of it again while parsing allocates millions of objects; and the
    # parser's objects die young, so collecting every 700 allocations only burns CPU (about 6% of the child's).
    gc.freeze()
    gc.set_threshold(100_000, 10, 10)
    try:
        session = imap_session.connect(server)
        info = session.select(folder)
        if info.uidvalidity != uidvalidity:
            conn.send(("changed", f"UIDVALIDITY of {folder} changed"))
            return
        s3 = LazyS3()
        # A database connection of our own, only to quote the rows (the driver's quoting follows the server's
        # settings); it writes nothing: the parent commits, in order.
        conn_db = db.pg_connect()
        cur = conn_db.cursor()
        worker = BatchWorker(session, account_id, s3,
                             quote=lambda rec: message_store.quote(cur, account_id, folder, uidvalidity, rec))
        _serve(conn, worker)
    except ImportFailure as exc:
        _send(conn, ("failure", exc))
    except db.connection_errors() as exc:
        log.warning("fetch worker lost its database connection", reason=str(exc))
        _send(conn, ("interrupted", f"{type(exc).__name__}: {exc}"))
    except Exception as exc:
        log.exception("fetch worker failed")
        _send(conn, ("error", f"{type(exc).__name__}: {exc}"))
    finally:
        if worker is not None:
            worker.close()
        if session is not None:
            session.close()
        if conn_db is not None:
            conn_db.close()
        conn.close()


def _serve(conn, worker):
    pending = None            # (index, Pending) whose uploads may still run
    while True:
        if pending is not None and not conn.poll():
            pending = _flush(conn, worker, pending)
        request = conn.recv()
        if request is None:
            break
        index, uids = request
        started = (index, worker.start(uids))
        if pending is not None:
            _flush(conn, worker, pending)
        pending = started
    if pending is not None:
        _flush(conn, worker, pending)


def _flush(conn, worker, pending):
    index, batch = pending
    conn.send(("ok", index, worker.finish(batch)))
    return None


def _send(conn, message):
    try:
        conn.send(message)
    except OSError:
        pass  # the parent is gone; nobody to tell
