"""mail_import's settings, read from the environment the template sets, once per cold start.

The queue, the bucket and the page's WebSocket address have no default (a missing one is an error naming
it); the tuning values default to what the template's timeouts were sized for.
"""
from dataclasses import dataclass

from common import netguard
from common.settings import Reader, SettingError, once

SAFETY_SECONDS = 30        # left at a chunk's deadline for the batches in flight, the last commit and the enqueue


@dataclass(frozen=True)
class Settings:
    queue_url: str               # MAIL_IMPORT_QUEUE_URL: where chunk messages go
    index_queue_url: str         # MAIL_IMPORT_INDEX_QUEUE_URL: where indexing requests go
    dead_letter_queue_url: str   # MAIL_IMPORT_DEAD_LETTER_QUEUE_URL: the chunks' DLQ, swept by the schedule ("": none)
    index_batch: int             # messages one indexing request indexes before queueing the rest
    index_interval: float        # seconds between a chunk's indexing requests while it stores messages
    attachments_bucket: str      # ATTACHMENTS_BUCKET
    chunk_seconds: float         # a chunk's time budget, cut to fit the invocation
    lease_seconds: float         # a chunk's job lease, renewed while it lives: free this long after a death
    max_attempts: int            # chunk failures the code itself saw (bad data, a bug) before the job fails
    host_slots: int              # chunks importing from one IMAP host at once (the others wait, re-delayed)
    batch: int                   # messages per UID FETCH
    batch_bytes: int             # bytes per UID FETCH, unless one message is bigger
    processes: int               # fetch processes (1: fetch in the handler's process)
    chunk_messages: int          # messages per chunk
    push_interval: float         # seconds between WebSocket pushes
    stranded_seconds: float      # an active, unleased job untouched this long lost its queue message
    imap_session_seconds: float  # an IMAP session's overall deadline
    imap_min_rate: float         # bytes per second of waiting a session must average ...
    imap_rate_grace: float       # ... once it has waited this many seconds for the server


@once
def load():
    """The settings; SettingError names the variable that is missing or malformed."""
    env = Reader()
    return Settings(
        queue_url=env.text("MAIL_IMPORT_QUEUE_URL"),
        index_queue_url=env.text("MAIL_IMPORT_INDEX_QUEUE_URL"),
        dead_letter_queue_url=env.text("MAIL_IMPORT_DEAD_LETTER_QUEUE_URL", ""),
        index_batch=env.integer("MAIL_IMPORT_INDEX_BATCH", 2000, minimum=1),
        index_interval=env.number("MAIL_IMPORT_INDEX_INTERVAL", 1.0, minimum=0),
        attachments_bucket=env.text("ATTACHMENTS_BUCKET"),
        chunk_seconds=env.number("MAIL_IMPORT_CHUNK_SECONDS", 60, minimum=0.1),
        lease_seconds=env.number("MAIL_IMPORT_LEASE_SECONDS", 15, minimum=1),
        max_attempts=env.integer("MAIL_IMPORT_MAX_ATTEMPTS", 3, minimum=1),
        host_slots=env.integer("MAIL_IMPORT_HOST_SLOTS", 2, minimum=1),
        batch=env.integer("MAIL_IMPORT_BATCH", 100, minimum=1),
        batch_bytes=env.integer("MAIL_IMPORT_BATCH_BYTES", 24 * 1024 * 1024, minimum=1),
        processes=env.integer("MAIL_IMPORT_PROCESSES", 2, minimum=1),
        chunk_messages=env.integer("MAIL_IMPORT_CHUNK_MESSAGES", 20000, minimum=1),
        push_interval=env.number("MAIL_IMPORT_PUSH_INTERVAL", 0.2, minimum=0.01),
        stranded_seconds=env.number("MAIL_IMPORT_STRANDED_SECONDS", 900, minimum=1),
        imap_session_seconds=env.number("MAIL_IMPORT_IMAP_SESSION_SECONDS", 100, minimum=1),
        imap_min_rate=env.number("MAIL_IMPORT_IMAP_MIN_BYTES_PER_SECOND", 256, minimum=0),
        imap_rate_grace=env.number("MAIL_IMPORT_IMAP_RATE_GRACE_SECONDS", 30, minimum=0),
    )


@once
def imap_allowed():
    """IMAP_ALLOWED_HOSTS: the internal hosts and networks users may import from (netguard.Allowed). Apart
    from load(): the web function checks a new account's server without needing the import's settings."""
    try:
        return netguard.Allowed.parse(Reader().text("IMAP_ALLOWED_HOSTS", ""))
    except ValueError as exc:
        raise SettingError(f"IMAP_ALLOWED_HOSTS: {exc}") from None


@once
def ws_public_url():
    """The page's WebSocket address (WS_PUBLIC_URL): only the web function serves pages, so only it has one."""
    return Reader().url("WS_PUBLIC_URL", schemes=("ws", "wss"))
