"""Import failures the user can act on, and turning low-level IMAP/network errors into them."""
import imaplib
import socket
import ssl

from imapclient.exceptions import IMAPClientError

from common.i18n import N_

from .imap_connection import TooSlow

# Servers say this when IMAP is switched off for the mailbox (Yandex, mail.ru, Gmail variants).
_DISABLED_HINTS = ("imap is disabled", "imap access is disabled", "imap disabled", "not enabled for imap",
                   "imap access is not enabled", "web login required", "application-specific password")


class ImportFailure(Exception):
    """A failure shown to the user; retrying the same chunk would not help. str() is the English text (the
    JSON API's); .message ({"msgid", "params"}) lets a page show it in the reader's language."""

    def __init__(self, msgid, **params):
        super().__init__(msgid % params if params else msgid)
        self.msgid, self.params = msgid, params

    @property
    def message(self):
        return {"msgid": self.msgid, "params": self.params}

    def __reduce__(self):
        # Crosses the pipe from the fetch processes whole (msgid and values), not as its text.
        return _rebuild, (self.msgid, self.params)


def _rebuild(msgid, params):
    return ImportFailure(msgid, **params)


class FolderChanged(Exception):
    """The folder's UIDVALIDITY changed under the import: plan it again."""


class Cancelled(Exception):
    """The person cancelled the import: the chunk stops between batches and the job ends 'cancelled'."""


class HostBusy(Exception):
    """The job's IMAP host already has its cap of running chunks: the chunk comes back later."""


class LeaseLost(Exception):
    """Another worker took the job over (our lease expired); stop without touching it further."""


def server_text(exc):
    """The server's words from an imapclient/imaplib error, as text."""
    arg = exc.args[0] if exc.args else ""
    text = arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(arg)
    return text.strip()[:300]


def login_failure(exc, login):
    """The message for a rejected LOGIN: disabled IMAP or a wrong login/password."""
    text = server_text(exc)
    if any(hint in text.lower() for hint in _DISABLED_HINTS):
        return ImportFailure(IMAP_DISABLED, login=login, server=text)
    return ImportFailure(WRONG_PASSWORD, login=login, server=text)


IMAP_DISABLED = N_("IMAP access is disabled for %(login)s: enable IMAP in the mailbox settings "
                   "(and use an app password if the provider asks for one). Server said: %(server)s")
WRONG_PASSWORD = N_("Wrong login or password for %(login)s. Server said: %(server)s")
# The login stopped working: the account is marked and its scheduled syncs stop until a login succeeds.
AUTH_FAILURES = frozenset({IMAP_DISABLED, WRONG_PASSWORD})


def is_auth_failure(failure):
    return failure is not None and getattr(failure, "msgid", None) in AUTH_FAILURES


def connect_failure(exc, host, port):
    """The message for a failure before login: DNS, refused, timeout, TLS."""
    where = f"{host}:{port}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return ImportFailure(N_("TLS error with %(where)s: the server certificate is not trusted (%(reason)s)."),
                             where=where, reason=exc.verify_message)
    if isinstance(exc, ssl.SSLError):
        return ImportFailure(N_("TLS error with %(where)s: %(reason)s. Check the port and the SSL setting."),
                             where=where, reason=str(exc.reason or exc))
    if isinstance(exc, socket.gaierror):
        return ImportFailure(HOST_NOT_FOUND, where=where)
    if isinstance(exc, ConnectionRefusedError):
        return ImportFailure(N_("Cannot connect to %(where)s: connection refused."), where=where)
    if isinstance(exc, TooSlow):
        return ImportFailure(TOO_SLOW, where=where)
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return ImportFailure(N_("Cannot connect to %(where)s: timed out."), where=where)
    if isinstance(exc, OSError):
        return ImportFailure(N_("Cannot connect to %(where)s: %(reason)s."), where=where,
                             reason=str(exc.strerror or exc))
    if isinstance(exc, (IMAPClientError, imaplib.IMAP4.error)):
        # Never the other side's words: a non-IMAP service's banner tells an attacker what runs there.
        return ImportFailure(NOT_IMAP, where=where)
    return None


HOST_NOT_FOUND = N_("Cannot connect to %(where)s: host not found.")
PRIVATE_HOST = N_("%(host)s points to an address inside a private network; only mail servers on the internet "
                  "can be used.")
NOT_IMAP_PORT = N_("Port %(port)s is not an IMAP port: use 993 (with SSL) or 143.")
NOT_IMAP = N_("%(where)s does not answer as an IMAP server. Check the server name and the port.")
TOO_SLOW = N_("%(where)s answers too slowly; the import stopped. Try again later.")
UNEXPECTED = N_("The import stopped because of an internal error. Reload the page to try again.")
NOT_QUEUED = N_("The import could not be queued. Reload the page to try again.")
FOLDER_MISSING = N_("Folder «%(folder)s» was not found on the server (or cannot be opened).")
NOT_CONNECTED = N_("Not connected to an account.")
# Every failure a page may have to show, for its script to translate the errors pushed to it.
MESSAGES = (
    UNEXPECTED, NOT_QUEUED, FOLDER_MISSING, NOT_CONNECTED, HOST_NOT_FOUND, PRIVATE_HOST, NOT_IMAP_PORT, NOT_IMAP,
    TOO_SLOW,
    IMAP_DISABLED, WRONG_PASSWORD,
    "TLS error with %(where)s: the server certificate is not trusted (%(reason)s).",
    "TLS error with %(where)s: %(reason)s. Check the port and the SSL setting.",
    "Cannot connect to %(where)s: connection refused.",
    "Cannot connect to %(where)s: timed out.",
    "Cannot connect to %(where)s: %(reason)s.",
)
