"""Mailbox command-line tools: admin (mailboxes and API keys), fake (realistic test data)."""
