"""Sending one message through the provider's HTTP API, once."""
