"""Mailings: a text, a period, a client filter and an optional local-time send window."""
