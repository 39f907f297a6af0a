"""mail_import's settings, read from the environment the template sets, once per cold start.

The queue, the bucket and the page's WebSocket address have no default (a missing one is an error naming
it); the tuning values default to what the template's timeouts were sized for.
"""
from dataclasses import dataclass

from common.settings import Reader, once

SAFETY_SECONDS = 30        # left at a chunk's deadline for the batches in flight, the last commit and the enqueue


@dataclass(frozen=True)
class Settings:
    queue_url: str               # MAIL_IMPORT_QUEUE_URL: where chunk messages go
    attachments_bucket: str      # ATTACHMENTS_BUCKET
    chunk_seconds: float         # a chunk's time budget, cut to fit the invocation
    lease_margin_seconds: float  # how long a chunk's lease outlasts its budget
    max_attempts: int            # deliveries of one chunk message before the job fails (= maxReceiveCount)
    batch: int                   # messages per UID FETCH
    batch_bytes: int             # bytes per UID FETCH, unless one message is bigger
    processes: int               # fetch processes (1: fetch in the handler's process)
    chunk_messages: int          # messages per chunk
    push_interval: float         # seconds between WebSocket pushes


@once
def load():
    """The settings; SettingError names the variable that is missing or malformed."""
    env = Reader()
    return Settings(
        queue_url=env.text("MAIL_IMPORT_QUEUE_URL"),
        attachments_bucket=env.text("ATTACHMENTS_BUCKET"),
        chunk_seconds=env.number("MAIL_IMPORT_CHUNK_SECONDS", 60, minimum=0.1),
        lease_margin_seconds=env.number("MAIL_IMPORT_LEASE_MARGIN_SECONDS", SAFETY_SECONDS, minimum=0),
        max_attempts=env.integer("MAIL_IMPORT_MAX_ATTEMPTS", 3, minimum=1),
        batch=env.integer("MAIL_IMPORT_BATCH", 100, minimum=1),
        batch_bytes=env.integer("MAIL_IMPORT_BATCH_BYTES", 24 * 1024 * 1024, minimum=1),
        processes=env.integer("MAIL_IMPORT_PROCESSES", 2, minimum=1),
        chunk_messages=env.integer("MAIL_IMPORT_CHUNK_MESSAGES", 20000, minimum=1),
        push_interval=env.number("MAIL_IMPORT_PUSH_INTERVAL", 0.2, minimum=0.01),
    )


@once
def ws_public_url():
    """The page's WebSocket address (WS_PUBLIC_URL): only the web function serves pages, so only it has one."""
    return Reader().url("WS_PUBLIC_URL", schemes=("ws", "wss"))
