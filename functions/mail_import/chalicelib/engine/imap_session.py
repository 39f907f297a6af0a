"""A logged-in IMAP session with just the commands the import needs; it counts the commands it sends."""
import ipaddress
import re
from dataclasses import dataclass
from datetime import timezone

from imapclient import SocketTimeout
from imapclient.exceptions import IMAPClientError, LoginError
from imapclient.imapclient import join_message_ids, seq_to_parenstr_upper

from common import netguard

from .. import settings
from . import fetch_response
from .failures import (FOLDER_MISSING, HOST_NOT_FOUND, NOT_IMAP_PORT, PRIVATE_HOST, ImportFailure, connect_failure,
                       login_failure)
from .imap_connection import GuardedClient, Pace

CONNECT_TIMEOUT = 15
READ_TIMEOUT = 120
# No RFC822.SIZE: it is by definition the length of BODY[] (the bytes are at hand), and imapclient's lexer
# parses every FETCH item character by character in Python.
FULL_MESSAGE = [b"BODY.PEEK[]", b"INTERNALDATE"]
UIDS_PER_COMMAND = 1000    # keeps a UID list well under servers' command line limits (Dovecot: 64 KB)
MESSAGE_ID_HEADER = [b"BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]
_HEADER_KEY = re.compile(rb"^BODY\[HEADER\.FIELDS")
# Special-use flags (RFC 6154) a folder list shows; Trash and Junk are not imported unless asked for.
SPECIAL_USE = (b"\\All", b"\\Archive", b"\\Drafts", b"\\Flagged", b"\\Junk", b"\\Sent", b"\\Trash", b"\\Important")
NOT_IMPORTED = frozenset({b"\\trash", b"\\junk"})
# ... nor folders so named on servers without special-use flags (the name's last part, case-insensitive).
NOT_IMPORTED_NAMES = frozenset({"trash", "spam", "junk", "bulk mail", "deleted", "deleted items", "deleted messages",
                                "корзина", "спам", "удаленные", "удалённые"})


@dataclass
class Server:
    """Where and as whom to log in."""
    host: str
    port: int
    use_ssl: bool
    login: str
    password: str

    def __repr__(self):
        return f"Server({self.host}:{self.port}, ssl={self.use_ssl}, login={self.login!r})"  # never the password


@dataclass
class FolderInfo:
    """What SELECT told about a folder."""
    name: str
    uidvalidity: int
    exists: int


class Session:
    """One IMAP connection, logged in; every IMAP command it sends is counted in .commands."""

    def __init__(self, client):
        self.client = client
        self.commands = 0
        imap = client._imap
        new_tag = imap._new_tag

        # Every tagged command, whether imaplib or imapclient sends it, takes a new tag: count those.
        def counted():
            self.commands += 1
            return new_tag()
        imap._new_tag = counted
        # imapclient turns imaplib's debug level to 5, which repr()s every fetched message body
        # (megabytes per batch) only to drop it in a debug log call: a third of the fetch time.
        imap.debug = 0

    # ---- folders ---------------------------------------------------------------------------------

    def folder_list(self):
        """The folders that can be selected (LIST with special-use flags): [{"name", "special", "checked"}], the
        \\All folder first, then INBOX, then the server's order; "checked": imported unless the person says
        otherwise (everything but Trash, Spam and Junk)."""
        found = []
        for flags, delimiter, name in self.client.list_folders():
            lowered = {flag.lower() for flag in flags}
            if b"\\noselect" in lowered or b"\\nonexistent" in lowered:
                continue
            special = next((flag.decode() for flag in SPECIAL_USE if flag.lower() in lowered), None)
            separator = delimiter.decode() if isinstance(delimiter, bytes) else delimiter
            leaf = name.rsplit(separator, 1)[-1] if separator else name
            skipped = bool(lowered & NOT_IMPORTED) or leaf.strip().lower() in NOT_IMPORTED_NAMES
            found.append({"name": name, "special": special, "checked": not skipped})
        return sorted(found, key=lambda folder: (folder["special"] != "\\All", folder["name"].upper() != "INBOX"))

    def default_folders(self):
        """The folders of an account that named none: the folder flagged \\All when the server has one (Gmail's
        All Mail, whatever its name: it holds every message but Trash and Spam), else every folder but Trash,
        Spam and Junk (folder_list)."""
        listed = self.folder_list()
        every = [folder["name"] for folder in listed if folder["special"] == "\\All"]
        return every[:1] or [folder["name"] for folder in listed if folder["checked"]] or ["INBOX"]

    def select(self, name):
        """SELECT (read-only) a folder; ImportFailure if it does not exist."""
        try:
            info = self.client.select_folder(name, readonly=True)
        except IMAPClientError:
            raise ImportFailure(FOLDER_MISSING, folder=name) from None
        return FolderInfo(name, int(info[b"UIDVALIDITY"]), int(info.get(b"EXISTS", 0)))

    # ---- searching -------------------------------------------------------------------------------

    def uids_after(self, last_uid):
        """UIDs above last_uid, ascending: one UID SEARCH whatever the folder size."""
        # "n:*" always includes the highest UID, even when it is below n: filter.
        found = self.client.search(["UID", f"{last_uid + 1}:*"])
        return sorted(uid for uid in found if uid > last_uid)

    def all_uids(self):
        """Every UID in the folder, ascending."""
        return sorted(self.client.search(["ALL"]))

    def message_id_headers(self, uids):
        """{uid: raw Message-ID header block} for the given UIDs (one FETCH)."""
        out = {}
        for uid, data in self.client.fetch(uids, MESSAGE_ID_HEADER).items():
            block = next((v for k, v in data.items() if isinstance(k, bytes) and _HEADER_KEY.match(k)), b"")
            out[uid] = block or b""
        return out

    def sizes(self, uids):
        """{uid: RFC822.SIZE}, a thousand UIDs per FETCH."""
        out = {}
        for start in range(0, len(uids), UIDS_PER_COMMAND):
            for uid, data in self.client.fetch(uids[start:start + UIDS_PER_COMMAND], [b"RFC822.SIZE"]).items():
                out[uid] = data.get(b"RFC822.SIZE", 0)
        return out

    def fetch_messages(self, uids):
        """{uid: (raw bytes, INTERNALDATE, size in octets)} for the given UIDs (one UID FETCH)."""
        out = {}
        asked = set(uids)
        # imapclient's fetch() sends the same command; its response parser costs far more than ours (fetch_response).
        data = self.client._command_and_check("FETCH", join_message_ids(uids), seq_to_parenstr_upper(FULL_MESSAGE),
                                              uid=True)
        for uid, data in fetch_response.parse(data, self.client.normalise_times).items():
            raw = data.get(b"BODY[]")
            if raw is None or uid not in asked:
                continue  # an unsolicited FETCH (flags changed) for a message we did not ask for
            received_at = data.get(b"INTERNALDATE")
            if received_at is not None:
                # imapclient's own tzinfo class does not pickle; the instant is what matters.
                received_at = received_at.astimezone(timezone.utc)
            out[uid] = (raw, received_at, len(raw))
        return out

    def close(self):
        """LOGOUT, ignoring a connection that is already gone."""
        try:
            self.client.logout()
        except Exception:
            try:
                self.client.shutdown()
            except Exception:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


IMAP_PORTS = frozenset({143, 993})


def destination(server, allowed):
    """The checked address to connect to; ImportFailure when the host or port may not be used."""
    try:
        address = netguard.resolve(server.host, server.port, allowed)
    except netguard.Refused as exc:
        if "could not be found" in str(exc):
            raise ImportFailure(HOST_NOT_FOUND, where=f"{server.host}:{server.port}") from None
        raise ImportFailure(PRIVATE_HOST, host=server.host) from None
    exempt = allowed.allows_name(server.host) or allowed.allows_address(ipaddress.ip_address(address))
    if server.port not in IMAP_PORTS and not exempt:
        raise ImportFailure(NOT_IMAP_PORT, port=server.port)
    return address


def connect(server, timeout=None):
    """Connect and log in; ImportFailure with a message for people when that fails.

    The host is resolved and checked once (common.netguard, IMAP_ALLOWED_HOSTS); the session then has
    an overall deadline and a minimum transfer rate (settings).
    """
    config = settings.load()
    address = destination(server, settings.imap_allowed())
    timeout = timeout or SocketTimeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT)
    pace = Pace(config.imap_session_seconds, config.imap_min_rate, config.imap_rate_grace)
    try:
        client = GuardedClient(server.host, address, server.port, server.use_ssl, timeout, pace)
    except Exception as exc:
        failure = connect_failure(exc, server.host, server.port)
        if failure is None:
            raise
        raise failure from None
    client.normalise_times = False  # keep INTERNALDATE's own offset: tz-aware datetimes
    session = Session(client)
    try:
        client.login(server.login, server.password)
    except LoginError as exc:
        session.close()
        raise login_failure(exc, server.login) from None
    except Exception as exc:
        session.close()
        failure = connect_failure(exc, server.host, server.port)
        if failure is None:
            raise
        raise failure from None
    return session
