"""The embedded moto's state kept on disk across restarts of `localcloud run`: S3 objects (every version),
queued SQS messages (delayed and in-flight ones included, with their receive counts and receipt
handles), secrets and EventBridge Scheduler schedules.

moto keeps everything in memory in this process; a developer restarts often. The backends are pickled
under the state folder's moto/ (mode 600; paths.py) periodically and at stop, and loaded back before the
template's resources are created (creating a bucket or queue that exists again keeps what it holds). Only for the
embedded moto: an external endpoint (LocalStack, AWS) keeps its own state.
"""
import logging
import os
import pickle
import threading

log = logging.getLogger("localcloud.persistence")
WHOLE_BACKENDS = ("s3", "secretsmanager", "scheduler")  # these pickle as they are
# Indexes kept beside the per-account backends (S3 finds a bucket's owner there: without it, creating the
# template's bucket again would replace the restored one).
SIDE_INDEXES = {"s3": ("bucket_accounts",)}
FILE_MODE = 0o600


def stack_dir(directory, stack_name, template):
    """The folder of one stack's state under directory: named by the stack and a digest of its template's
    path, so one stack's objects, secrets, schedules and messages are never restored into another's run."""
    import hashlib
    from pathlib import Path
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in stack_name)
    digest = hashlib.sha1(str(Path(template).resolve()).encode()).hexdigest()[:10]
    return Path(directory) / f"{safe}-{digest}"


def _rebuild_versioned(lists):
    from moto.s3.utils import _VersionedKeyStore
    store = _VersionedKeyStore()
    for key, versions in lists:
        store.setlist(key, versions)
    return store


def _pickle_every_version():
    """moto's S3 key store is a dict whose items() yields only each key's latest version, so plain
    pickling would keep one version per key: pickle the full version lists instead."""
    import copyreg
    from moto.s3.utils import _VersionedKeyStore
    copyreg.pickle(_VersionedKeyStore, lambda store: (_rebuild_versioned, (list(store.lists()),)))


def _backends(service):
    from moto.backends import get_backend
    return get_backend(service)


def _write(path, data):
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _sqs_snapshot():
    """{(account, region, queue name): [Message, ...]}: the messages only (queues hold locks that do not
    pickle; the template creates the queues again)."""
    snapshot = {}
    for account, regions in _backends("sqs").items():
        for region, backend in regions.items():
            for name, queue in backend.queues.items():
                with queue._messages_lock:
                    messages = list(queue._messages)
                    pending = list(getattr(queue, "_pending_messages", ()))
                if messages or pending:
                    snapshot[(account, region, name)] = (messages, pending)
    return snapshot


def save(directory):
    """Write the state of the embedded moto under directory; returns what was saved, for the log."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    _pickle_every_version()
    saved = {}
    for service in WHOLE_BACKENDS:
        try:
            whole = _backends(service)
            backends = dict(whole)
            indexes = {name: dict(getattr(whole, name)) for name in SIDE_INDEXES.get(service, ())}
            _write(directory / f"{service}.pickle", pickle.dumps((backends, indexes)))
            saved[service] = len(backends)
        except Exception as exc:  # noqa: BLE001 - one service failing must not lose the others
            log.warning("could not save %s state: %s", service, exc)
    snapshot = _sqs_snapshot()
    _write(directory / "sqs.pickle", pickle.dumps(snapshot))
    saved["sqs messages"] = sum(len(m) + len(p) for m, p in snapshot.values())
    return saved


def restore(directory):
    """Load what save() wrote, before any resource is created; returns what was loaded."""
    loaded = {}
    for service in WHOLE_BACKENDS:
        path = directory / f"{service}.pickle"
        if not path.exists():
            continue
        try:
            backends, indexes = pickle.loads(path.read_bytes())
        except Exception as exc:  # noqa: BLE001 - a corrupt or incompatible file starts that service empty
            log.warning("could not load %s state (%s); starting it empty", service, exc)
            continue
        target = _backends(service)
        for account, value in backends.items():
            target[account] = value
        for name, index in indexes.items():
            getattr(target, name).update(index)
        loaded[service] = len(backends)
    path = directory / "sqs.pickle"
    if path.exists():
        try:
            _pending_sqs.update(pickle.loads(path.read_bytes()))
        except Exception as exc:  # noqa: BLE001
            log.warning("could not load queued messages (%s); queues start empty", exc)
        loaded["sqs messages"] = sum(len(m) + len(p) for m, p in _pending_sqs.values())
    return loaded


_pending_sqs = {}


def refill_queues():
    """Put the restored messages back into the queues of the same name (call once they exist)."""
    backends = _backends("sqs")
    refilled = 0
    for (account, region, name), (messages, pending) in list(_pending_sqs.items()):
        queue = backends[account][region].queues.get(name)
        if queue is None:
            log.warning("queue %s no longer exists: %d saved messages dropped", name, len(messages))
            continue
        with queue._messages_lock:
            known = {m.id for m in queue._messages}
            for message in messages:
                if message.id not in known:
                    # The local SQS index files a message under its ready time and remembers that on the
                    # message; a restored message must be filed again in this process's index.
                    vars(message).pop("_ready_key", None)
                    queue._messages.append(message)
                    refilled += 1
            for message in pending:
                queue._pending_messages.add(message)
        del _pending_sqs[(account, region, name)]
    return refilled


class Keeper:
    """Saves the state every `interval` seconds and once more at stop()."""

    def __init__(self, directory, interval=15.0):
        self.directory = directory
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="state-keeper", daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(self.interval):
            try:
                save(self.directory)
            except Exception:  # noqa: BLE001 - try again next time
                log.exception("saving the local state failed")

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)
        saved = save(self.directory)
        log.info("local state saved to %s: %s", self.directory, saved)
