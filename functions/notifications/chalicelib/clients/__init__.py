"""Clients: who gets messages. Phone 7XXXXXXXXXX, operator code derived from it, tag, IANA time zone."""
