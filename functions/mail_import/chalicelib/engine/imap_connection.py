"""The IMAP connection itself: to the address common.netguard checked (TLS still verifies the host name),
and bounded in time: a whole-session deadline and a minimum transfer rate, so a server that answers one
byte at a time (a tarpit) cannot hold a worker for long.

A per-read timeout alone does not help against a tarpit: every byte arrives well within it.
"""
import io
import socket
import time

import imaplib

from imapclient import IMAPClient, tls


class TooSlow(TimeoutError):
    """The session ran past its deadline or the server sent too slowly."""


class Pace:
    """The session's clock: raises TooSlow once the deadline passes, or when, after `grace` seconds spent
    waiting for the server, fewer than min_rate bytes per second of waiting arrived. Only time spent waiting
    for data counts towards the rate: a session that sits idle while other processes fetch is not slow."""

    def __init__(self, seconds, min_rate, grace, clock=time.monotonic):
        self.clock = clock
        self.deadline = clock() + seconds
        self.min_rate = min_rate
        self.grace = grace
        self.received = 0
        self.waited = 0.0

    def left(self):
        """Seconds until the deadline; TooSlow once it passed or the rate fell too low."""
        now = self.clock()
        if now >= self.deadline:
            raise TooSlow("the IMAP session took too long")
        if self.waited > self.grace and self.received < self.min_rate * self.waited:
            raise TooSlow("the IMAP server sends too slowly")
        return self.deadline - now

    def count(self, n, waited):
        self.received += n
        self.waited += waited


class _PacedReader(io.RawIOBase):
    """The socket as a raw stream whose every read is bounded by the session's Pace."""

    def __init__(self, sock, pace, read_timeout):
        self.sock, self.pace, self.read_timeout = sock, pace, read_timeout

    def readable(self):
        return True

    def readinto(self, buffer):
        left = self.pace.left()
        self.sock.settimeout(min(self.read_timeout, left))
        started = self.pace.clock()
        try:
            n = self.sock.recv_into(buffer)
        except socket.timeout:
            if left <= self.read_timeout:
                raise TooSlow("the IMAP session took too long") from None
            raise
        self.pace.count(n, self.pace.clock() - started)
        return n


def _pin(cls):
    """An imaplib class that connects to a fixed address, keeps `host` for TLS, and reads through a Pace."""

    class Pinned(cls):
        def __init__(self, host, address, port, timeout, pace, read_timeout, **kwargs):
            self._address, self._pace, self._read_timeout, self._connect_timeout = address, pace, read_timeout, timeout
            if cls is imaplib.IMAP4:
                super().__init__(host, port, timeout=timeout)
            else:
                super().__init__(host, port, timeout=timeout, **kwargs)

        def _create_socket(self, timeout=None):
            sock = socket.create_connection((self._address, self.port),
                                            min(self._connect_timeout or 15, self._pace.left()))
            if cls is not imaplib.IMAP4:
                sock = tls.wrap_socket(sock, self.ssl_context, self.host)  # verifies the name, not the address
            return sock

        def open(self, host="", port=imaplib.IMAP4_PORT, timeout=None):
            super().open(host, port, timeout)
            self.file = io.BufferedReader(_PacedReader(self.sock, self._pace, self._read_timeout), 65536)

    return Pinned


_PinnedPlain = _pin(imaplib.IMAP4)
_PinnedTLS = _pin(tls.IMAP4_TLS)


class GuardedClient(IMAPClient):
    """IMAPClient connected to `address` (already checked), with a session Pace."""

    def __init__(self, host, address, port, use_ssl, timeout, pace):
        self._address, self._pace = address, pace
        super().__init__(host, port, ssl=use_ssl, timeout=timeout)

    def _create_IMAP4(self):
        connect = getattr(self._timeout, "connect", None)
        read = getattr(self._timeout, "read", None) or 120
        if self.ssl:
            return _PinnedTLS(self.host, self._address, self.port, connect, self._pace, read,
                              ssl_context=self.ssl_context)
        return _PinnedPlain(self.host, self._address, self.port, connect, self._pace, read)

    def _set_read_timeout(self):
        pass  # every read sets its own timeout (the Pace's remaining time, at most the read timeout)
