"""Phase 2's heavy part: fetch batches of messages by UID, parse them and upload their attachments.

One BatchWorker per IMAP connection; a batch's attachments go up as one object (attachment_store.Pack).
With several processes each child logs in on its own and
takes every other batch, so fetching, parsing and uploading run in parallel; the parent only
writes to the database, in UID order. Batch N's uploads overlap batch N+1's fetch and parse.
"""
import time
from concurrent.futures import ThreadPoolExecutor, wait

from ..mime import message_rows
from ..mime.parser import parse_message
from . import attachment_store

UPLOAD_THREADS = 4


def make_batches(uids, sizes, max_count, max_bytes):
    """Split UIDs (in order) into batches under both limits, so big attachments cannot exhaust memory."""
    batches, current, total = [], [], 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if current and (len(current) >= max_count or total + size > max_bytes):
            batches.append(current)
            current, total = [], 0
        current.append(uid)
        total += size
    if current:
        batches.append(current)
    return batches


class Pending:
    """A batch fetched and parsed whose attachment uploads may still be running."""

    def __init__(self, uids, records, uploads, commands):
        self.uids = uids
        self.records = records
        self.uploads = uploads
        self.commands = commands


class Result:
    """A finished batch: the UIDs asked for, the records of those that exist, IMAP commands used."""

    def __init__(self, uids, records, commands):
        self.uids = uids
        self.records = records
        self.commands = commands


class BatchWorker:
    """Fetches, parses and uploads batches over one IMAP session and one S3 client."""

    def __init__(self, session, account_id, s3):
        self.session = session
        self.account_id = account_id
        self.s3 = s3
        self.uploader = ThreadPoolExecutor(UPLOAD_THREADS, thread_name_prefix="attachment-upload")

    def start(self, uids):
        """Fetch and parse a batch; its uploads start in the background."""
        before = self.session.commands
        fetched = self.session.fetch_messages(uids)
        pack, parsed_batch = attachment_store.Pack(self.account_id), []
        for uid in sorted(fetched):
            raw, received_at, size = fetched[uid]
            parsed = parse_message(raw)
            parsed_batch.append((uid, parsed, received_at, size, [pack.add(a.content) for a in parsed.attachments]))
        pack.seal()
        uploads = []
        if pack.key is not None:   # one PUT for the whole batch's attachments
            uploads.append(self.uploader.submit(attachment_store.put, self.s3, pack.key, pack.content, None))
        records = [message_rows.record(uid, parsed, received_at, size, [pack.slice_key(h) for h in handles])
                   for uid, parsed, received_at, size, handles in parsed_batch]
        return Pending(uids, records, uploads, self.session.commands - before)

    def finish(self, pending):
        """Wait for a batch's uploads (the rows must never point at missing objects); raises if one failed."""
        wait(pending.uploads)
        for future in pending.uploads:
            future.result()
        return Result(pending.uids, pending.records, pending.commands)

    def close(self):
        """Stop the upload threads."""
        self.uploader.shutdown(wait=True)


def in_process(worker, batches, deadline):
    """Results of batches in order, fetched by this process; no new batch starts after the deadline."""
    previous = None
    for uids in batches:
        if time.monotonic() >= deadline:
            break
        current = worker.start(uids)
        if previous is not None:
            yield worker.finish(previous)
        previous = current
    if previous is not None:
        yield worker.finish(previous)
