"""Dispatch: a mailing's start creates its messages and queues them, each at its client's window."""
