"""The search index (mail_import.message_search), filled after the import's commits, never inside them.

The import commits messages without their text-search vectors (computing them took about a third of an
import) and asks for indexing with a queue message {"account": id, "from": message id}: "index every message
of the account from this id on that has no search row yet". Requests are idempotent (the rows that exist
are skipped, ON CONFLICT DO NOTHING), so a redelivered or repeated request stores nothing twice; one request
indexes at most `index_batch` messages and queues the rest as a new request before it returns (a failed send
raises, and the request comes back). A chunk sends one request per `index_interval` while it stores
(a message is searchable within seconds) and the job's last chunk one from the job's first stored message,
so a request lost between a commit and its send is covered by the next. Once that last one is queued the job's
index_from is cleared; a job that ended without it (failing, while SQS failed too) keeps it, and the sync
schedule queues it (request_missed), so no stored message stays unsearchable.
"""
import time

from common import queue
from common.db import pg_transaction
from common.log import get_logger

from .. import queries, queue_messages, settings

log = get_logger(__name__)


def request(account_id, from_id):
    """Queue the indexing of the account's messages from `from_id` on."""
    queue.send(settings.load().index_queue_url, queue_messages.IndexRequest(account_id, from_id).body())


def requested(job_id):
    """The job's last indexing request is queued: nothing left for request_missed."""
    with pg_transaction() as cur:
        cur.execute(queries.INDEXING_REQUESTED, {"jobs": [job_id]})


def request_missed(limit=1000):
    """Queue the indexing that finished jobs could not ask for; returns how many requests were queued.

    The jobs stay locked until their requests are sent: a failed send rolls back and they are tried again next
    time (a request sent twice stores nothing twice)."""
    with pg_transaction() as cur:
        cur.execute(queries.JOBS_NOT_INDEXED, {"limit": limit})
        rows = cur.fetchall()
        for account_id, from_id, _jobs in rows:
            request(account_id, from_id)
        if rows:
            cur.execute(queries.INDEXING_REQUESTED, {"jobs": [job for *_, jobs in rows for job in jobs]})
    if rows:
        log.warning("queued the indexing finished jobs had not asked for", accounts=len(rows))
    return len(rows)


def index(account_id, from_id, limit):
    """Index up to `limit` unindexed messages of the account with id >= from_id, oldest first.

    Returns (taken, last id taken, stored); taken == limit means there may be more after the last id.
    """
    with pg_transaction() as cur:
        cur.execute(queries.LOCK_ACCOUNT_INDEX, (account_id,))
        cur.execute(queries.INDEX_MESSAGES, {"account": account_id, "from_id": from_id, "limit": limit})
        taken, last, stored = cur.fetchone()
    return taken, last, stored


def handle(body):
    """One indexing request from the queue: index a bounded share and queue the rest."""
    try:
        message = queue_messages.IndexRequest.parse(body)
    except queue_messages.BadMessage as exc:
        log.warning("dropping a malformed indexing request", reason=str(exc))
        return
    account_id, from_id = message.account_id, message.from_id
    limit = settings.load().index_batch
    taken, last, stored = index(account_id, from_id, limit)
    if taken >= limit:
        request(account_id, last + 1)
    log.debug("indexed", account_id=account_id, from_id=from_id, taken=taken, stored=stored)


class Requests:
    """A chunk's indexing requests: at most one per interval while batches are stored, then one at the end.

    note(first_id) after each commit with the lowest new message id; flush() sends what is pending.
    """

    def __init__(self, account_id, interval=None):
        self.account_id = account_id
        self.interval = settings.load().index_interval if interval is None else interval
        self.pending = None
        self.sent_at = None

    def note(self, first_id):
        if first_id is None:
            return
        self.pending = first_id if self.pending is None else min(self.pending, first_id)
        if self.sent_at is None or time.monotonic() - self.sent_at >= self.interval:
            self.flush()

    def flush(self):
        if self.pending is not None:
            request(self.account_id, self.pending)
            self.pending = None
            self.sent_at = time.monotonic()
