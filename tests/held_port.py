"""Ports for servers that cannot be told to bind port 0 and report it (PostgreSQL, MariaDB, Dovecot).

free_port() finds a port and lets it go before the server binds it: under `pytest -n 2` another worker can take it
in between, and a server stopped for an outage test leaves its port free for seconds. A HeldPort stays bound, not
listening, for as long as the test needs the port: with SO_REUSEADDR on both sides, Linux lets the server (which
sets SO_REUSEADDR, as PostgreSQL, MariaDB, Dovecot and werkzeug do) bind and listen on it beside the holder, while
any other bind of that port, port 0's choice included, is refused. A client connecting while the server is down
is refused, exactly as with nobody on the port."""
import socket


class HeldPort:
    def __init__(self, host="127.0.0.1", port=0):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.port = self.sock.getsockname()[1]

    def close(self):
        self.sock.close()


def held_port_pair(offset, host="127.0.0.1"):
    """[HeldPort(p), HeldPort(p + offset)] (Dovecot's IMAP and IMAPS listeners)."""
    for _ in range(100):
        first = HeldPort(host)
        if first.port + offset <= 65535:
            try:
                return [first, HeldPort(host, first.port + offset)]
            except OSError:
                pass
        first.close()
    raise RuntimeError("no free port pair")
