"""Helpers shared by the mail_import tests: the test Dovecot's users, IMAP filling, a Lambda context."""
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from imapclient import IMAPClient

FUNCTIONS = ["MailImportWebFunction", "MailImportWorkerFunction", "MailImportWsFunction", "MailImportIndexFunction"]
ALL_MAIL = "Вся почта"   # flagged \All in the test Dovecot, as Gmail flags its localised "All Mail"
LOCAL_CONF = """
namespace inbox {
  inbox = yes
  mailbox "%s" {
    special_use = \\All
  }
}
""" % ALL_MAIL


def free_port_pair(offset=850):
    """A port p with p and p+offset both free (Dovecot's IMAP and IMAPS listeners)."""
    for _ in range(100):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port + offset > 65535:
            continue
        with socket.socket() as other:
            try:
                other.bind(("127.0.0.1", port + offset))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port pair")


def wait_for_port(port, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


@dataclass
class Mailbox:
    """A Dovecot user of the test server."""
    host: str
    port: int
    login: str
    password: str

    def client(self):
        """A logged-in IMAPClient (plain IMAP)."""
        client = IMAPClient(self.host, self.port, ssl=False, timeout=30)
        client.login(self.login, self.password)
        return client

    def fill(self, folder, messages, msg_time=None):
        """Append messages (bytes) to a folder, creating it; MULTIAPPEND in chunks, much faster than APPEND."""
        with self.client() as client:
            if folder.upper() != "INBOX" and not client.folder_exists(folder):
                client.create_folder(folder)
            for start in range(0, len(messages), 200):
                chunk = messages[start:start + 200]
                if msg_time is None:
                    client.multiappend(folder, chunk)
                else:
                    for raw in chunk:
                        client.append(folder, raw, msg_time=msg_time)

    def account_input(self, **extra):
        """Fields for POST /api/accounts pointing at this mailbox."""
        values = {"provider": "custom", "host": self.host, "port": str(self.port), "ssl": "",
                  "login": self.login, "password": self.password}
        values.update(extra)
        return values


class Dovecot:
    """The session's Dovecot: new_mailbox() gives every test a user of its own."""
    USERS = 200

    def __init__(self, directory, port):
        self.dir = Path(directory)
        self.port = port
        self.ssl_port = port + 850
        self.free = []

    def create_users(self):
        """Write the users before Dovecot starts (it re-reads a changed passwd-file at most once a second)."""
        # Logins unique across sessions too: the test database outlives a session, and a mailbox added again
        # (same host and login) is the account already there (issue 22).
        tag = uuid.uuid4().hex[:8]
        self.free = [(f"user{n:03d}.{tag}", uuid.uuid4().hex) for n in range(self.USERS)]
        with open(self.dir / "users", "w") as users:
            users.write("alice:{PLAIN}secret::::::\n")
            users.writelines(f"{login}:{{PLAIN}}{password}::::::\n" for login, password in self.free)

    def new_mailbox(self, name="u"):
        """A user nobody else has used in this session (name is only a label)."""
        login, password = self.free.pop()
        return Mailbox("127.0.0.1", self.port, login, password)


class LambdaContext:
    """Enough of the Lambda context for the worker: a generous time budget."""

    def get_remaining_time_in_millis(self):
        return 120_000
