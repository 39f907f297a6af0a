"""The import engine: jobs leased chunk by chunk from the queue, IMAP sessions, fetch processes, and what
they store (messages in PostgreSQL, attachments in S3) and push (progress to the open pages)."""
