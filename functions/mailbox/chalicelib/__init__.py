"""Mailbox logic as plain modules: validation, storage, auth, API documentation."""
