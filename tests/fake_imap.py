"""A tiny IMAP server on 127.0.0.1 for tests: it greets, answers CAPABILITY and LOGOUT, and either rejects every
LOGIN with a fixed answer (RejectingImapServer: e.g. Yandex with IMAP switched off) or accepts any LOGIN and refuses
everything after it (LoginOnlyImapServer: a login check passes, an import then finds no folder)."""
import socket
import threading


class RejectingImapServer:
    """Listens on 127.0.0.1:<port>; LOGIN gets `NO <reply>` (`OK` when reply is None); CAPABILITY and LOGOUT are
    answered politely, anything else with NO."""

    def __init__(self, reply="[AUTHENTICATIONFAILED] IMAP is disabled"):
        self.reply = reply
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.logins = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        with conn, conn.makefile("rb") as lines:
            conn.sendall(b"* OK IMAP4rev1 ready\r\n")
            for line in lines:
                tag, _, rest = line.decode("ascii", "replace").strip().partition(" ")
                command = rest.split(" ", 1)[0].upper()
                if command == "CAPABILITY":
                    conn.sendall(f"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n{tag} OK done\r\n".encode())
                elif command == "LOGIN":
                    self.logins += 1
                    answer = "OK logged in" if self.reply is None else f"NO {self.reply}"
                    conn.sendall(f"{tag} {answer}\r\n".encode())
                elif command == "LOGOUT":
                    conn.sendall(f"* BYE\r\n{tag} OK bye\r\n".encode())
                    return
                else:
                    conn.sendall(f"{tag} NO unexpected\r\n".encode())

    def close(self):
        self.sock.close()


class LoginOnlyImapServer(RejectingImapServer):
    """Accepts any LOGIN, refuses every command after it."""

    def __init__(self):
        super().__init__(reply=None)
