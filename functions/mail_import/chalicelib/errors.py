"""Import failures the user can act on, and turning low-level IMAP/network errors into them."""
import imaplib
import socket
import ssl

from imapclient.exceptions import IMAPClientError

# Servers say this when IMAP is switched off for the mailbox (Yandex, mail.ru, Gmail variants).
_DISABLED_HINTS = ("imap is disabled", "imap access is disabled", "imap disabled", "not enabled for imap",
                   "imap access is not enabled", "web login required", "application-specific password")


class ImportFailure(Exception):
    """A failure shown to the user as is (str(exc)); retrying the same chunk would not help."""


class FolderChanged(Exception):
    """The folder's UIDVALIDITY changed under the import: plan it again."""


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
        return ImportFailure(f"IMAP access is disabled for {login}: enable IMAP in the mailbox settings "
                             f"(and use an app password if the provider asks for one). Server said: {text}")
    return ImportFailure(f"Wrong login or password for {login}. Server said: {text}")


def connect_failure(exc, host, port):
    """The message for a failure before login: DNS, refused, timeout, TLS."""
    where = f"{host}:{port}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return ImportFailure(f"TLS error with {where}: the server certificate is not trusted "
                             f"({exc.verify_message}).")
    if isinstance(exc, ssl.SSLError):
        return ImportFailure(f"TLS error with {where}: {exc.reason or exc}. Check the port and the SSL setting.")
    if isinstance(exc, socket.gaierror):
        return ImportFailure(f"Cannot connect to {where}: host not found.")
    if isinstance(exc, ConnectionRefusedError):
        return ImportFailure(f"Cannot connect to {where}: connection refused.")
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return ImportFailure(f"Cannot connect to {where}: timed out.")
    if isinstance(exc, OSError):
        return ImportFailure(f"Cannot connect to {where}: {exc.strerror or exc}.")
    if isinstance(exc, (IMAPClientError, imaplib.IMAP4.error)):
        return ImportFailure(f"{where} does not answer as an IMAP server: {server_text(exc)}")
    return None
