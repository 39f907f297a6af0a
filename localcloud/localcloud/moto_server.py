"""moto's server in a thread of this process, with HTTP keep-alive.

moto's ThreadedMotoServer runs werkzeug's development server, which closes the connection after every response: it
cannot tell where a request body it left unread ends. So every AWS call of the cloud, its pollers and its functions
opened a new TCP connection, and the server started a new thread for it: about a fifth of a small call's CPU, on both
sides. Here a request whose body length is known (Content-Length, or no body) keeps its connection open: after the
response, the part of the body the app left unread is read off, so the next request line is where it should be.
Requests with a chunked or otherwise unknown body still get werkzeug's behaviour (their connection closes).

Werkzeug also drains whatever the socket holds after each response; on a kept connection that would be the client's
next request, so that drain is skipped for such connections only (a thread-local flag read by the selector it uses).
stop() shuts the kept connections too: a stopped server answers nobody, as before.
"""
import selectors
import socket
import threading
import types

from werkzeug import serving

from . import moto_patches

_kept = threading.local()       # .on: this thread's connection is kept open after the current response


class _NoDrainSelector:
    """What werkzeug's after-response drain sees on a kept connection: nothing waiting."""

    def register(self, *_args, **_kwargs):
        pass

    def select(self, timeout=None):
        return []

    def close(self):
        pass


def _selector():
    return _NoDrainSelector() if getattr(_kept, "on", False) else selectors.DefaultSelector()


# werkzeug.serving reaches the drain's selector only through its module attribute `selectors`.
serving.selectors = types.SimpleNamespace(DefaultSelector=_selector, EVENT_READ=selectors.EVENT_READ)


class _CountingInput:
    """The request body stream, counting what the app reads of it."""

    def __init__(self, stream):
        self.stream, self.read_bytes = stream, 0

    def read(self, size=-1):
        data = self.stream.read(size)
        self.read_bytes += len(data)
        return data

    def readline(self, size=-1):
        data = self.stream.readline(size)
        self.read_bytes += len(data)
        return data

    def readinto(self, buffer):
        count = self.stream.readinto(buffer) or 0
        self.read_bytes += count
        return count

    def __getattr__(self, name):
        return getattr(self.stream, name)


def _handler_class():
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class KeepAliveHandler(MotoRequestHandler):
        protocol_version = "HTTP/1.1"
        keep = False

        def setup(self):
            super().setup()
            # Headers and body go out in separate writes: without this, a kept connection waits for the client's
            # delayed ACK (40 ms) on every response.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.server.live.add(self.connection)

        def finish(self):
            self.server.live.discard(self.connection)
            super().finish()

        def make_environ(self):
            environ = super().make_environ()
            length = self.headers.get("Content-Length", "0")
            self.keep = (not self.close_connection and length.isdigit() and "Transfer-Encoding" not in self.headers
                         and "Expect" not in self.headers)
            if self.keep:
                self.body_length = int(length)
                self.body = environ["wsgi.input"] = _CountingInput(environ["wsgi.input"])
            # werkzeug's drain still runs before a connection closes (a client sees its answer, not a reset).
            _kept.on = self.keep
            return environ

        def send_header(self, keyword, value):
            if self.keep and keyword.lower() == "connection" and value.lower() == "close":
                return      # werkzeug's "always close": this connection stays open
            super().send_header(keyword, value)

        def run_wsgi(self):
            self.keep = False
            try:
                super().run_wsgi()      # make_environ() decides self.keep and _kept.on; the drain reads _kept.on
            finally:
                _kept.on = False
            if not self.keep:
                self.close_connection = True
                return
            unread = self.body_length - self.body.read_bytes
            try:
                while unread > 0 and not self.close_connection:
                    chunk = self.rfile.read(min(unread, 1 << 20))
                    if not chunk:
                        self.close_connection = True
                    unread -= len(chunk)
            except OSError:             # the client went away mid-body
                self.close_connection = True

    return KeepAliveHandler


class MotoServer:
    """moto's server on host:port (0: a free port, bound by the server itself); start(), stop()."""

    def __init__(self, host="127.0.0.1", port=0):
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        self._server = serving.make_server(host, port, DomainDispatcherApplication(create_backend_app), threaded=True,
                                           request_handler=_handler_class())
        self._server.live = set()
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto-server", daemon=True)

    def start(self):
        self._thread.start()
        moto_patches.LOCAL_SERVERS.add(self.get_host_and_port())
        return self

    def get_host_and_port(self):
        host, port = self._server.server_address[:2]
        return str(host), port

    def stop(self):
        """Stop accepting, and end the connections kept open (their clients see the server gone)."""
        moto_patches.LOCAL_SERVERS.discard(self.get_host_and_port())
        self._server.shutdown()
        self._server.server_close()
        for connection in list(self._server.live):
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join()
