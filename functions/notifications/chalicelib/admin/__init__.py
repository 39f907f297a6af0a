"""The server-rendered admin page: clients, mailings, a mailing's live progress; same operators and tokens."""
