"""What the emulators' HTTP sides share: a threaded server on a daemon thread, its URL, JSON answers."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from localcloud.http_gateway import public_host


class Served:
    """Mixin for an emulator with host, port and handler_class(): start() -> self, stop(), url."""
    thread_name = "emulator"
    _server = None
    _thread = None

    def handler_class(self):
        raise NotImplementedError

    def start(self):
        self._server = ThreadingHTTPServer((self.host, self.port), self.handler_class())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self.stopping()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
        if self._thread:
            self._thread.join(5)

    def stopping(self):
        """Called first by stop(): release whatever waits inside a request."""

    @property
    def url(self):
        """The address clients use (a wildcard bind, in a container, is reached on loopback)."""
        return f"http://{public_host(self.host)}:{self.port}"


class Handler(BaseHTTPRequestHandler):
    """Keep-alive HTTP/1.1, no access log (each emulator keeps its own request log), JSON answers."""
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes: with Nagle on, a keep-alive client waits ~40 ms (delayed ACK)
    # for every answer, which the real APIs do not cost.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def body(self, limit):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(length, limit)) if length else b""

    def reply(self, status, value, headers=None, content_type="application/json"):
        """value as JSON, or as it is (text) with another content type."""
        data = (json.dumps(value) if content_type == "application/json" else value).encode()
        self.send_response(status)
        for name, header in (headers or {}).items():
            self.send_header(name, header)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


def serve_until_interrupted(emulator, what):
    """A command line's emulator: started, announced, served until Ctrl-C."""
    emulator.start()
    print(f"{what} on {emulator.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        emulator.stop()
