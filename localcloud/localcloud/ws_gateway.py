"""Local API Gateway WebSocket API plus its Management API (@connections), served on one port.

WebSocket upgrades are driven with websockets' Sans-I/O ServerProtocol; every other request is
answered as the Management API (POST/GET/DELETE /[stage/]@connections/{id}), which is what a
boto3 "apigatewaymanagementapi" client talks to.
"""
import asyncio
import base64
import hashlib
import http
import ipaddress
import json
import logging
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Optional
from urllib.parse import unquote, urlsplit

from websockets.frames import Opcode
from websockets.protocol import CLOSED, OPEN
from websockets.server import ServerProtocol

from localcloud.http_gateway import public_host
from localcloud import events as aws_events
from localcloud.model import InvocationError, Invoke, WsApi

MAX_MESSAGE_BYTES = 128 * 1024      # AWS: WebSocket message payload and PostToConnection Data limit
MAX_HEAD_BYTES = 64 * 1024
MANAGEMENT_READ_TIMEOUT = 30  # seconds a Management API caller may take to send its body
CLOSE_TIMEOUT = 5.0                 # seconds a peer gets to finish a closing handshake
STOP_GRACE = 5.0                    # seconds stop() waits for $disconnect handlers
INVOKE_THREADS = 64
SPECIAL_ROUTES = ("$connect", "$disconnect")
CONNECTIONS_PATH = re.compile(r"^(?:/[^/]+)?/@connections/([^/]+)/?$")

# websockets logs every open/close at INFO; the gateway logs those itself with the connection id.
_PROTOCOL_LOG = logging.getLogger("localcloud.ws.protocol")
_PROTOCOL_LOG.setLevel(logging.WARNING)


class _Client:
    """One accepted WebSocket connection; touched only from the gateway's event loop."""

    def __init__(self, connection_id, protocol, writer, request, source_ip):
        self.id = connection_id
        self.protocol: ServerProtocol = protocol
        self.writer: asyncio.StreamWriter = writer
        self.headers = list(request.headers.raw_items())
        self.path = request.path
        self.source_ip = source_ip
        self.user_agent = request.headers.get("User-Agent", "")
        self.connected_at = time.time()
        self.last_active_at = self.connected_at
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.fragments: list = []
        self.fragments_text = False
        self._close_timer: Optional[asyncio.TimerHandle] = None

    @property
    def is_open(self) -> bool:
        return self.protocol.state is OPEN

    def send(self, data) -> bool:
        """Send one message (str or UTF-8 bytes as text, other bytes as binary); False if not open."""
        if not self.is_open:
            return False
        if isinstance(data, str):
            self.protocol.send_text(data.encode())
        elif _is_utf8(data):
            self.protocol.send_text(data)
        else:
            self.protocol.send_binary(data)
        self.last_active_at = time.time()
        self.flush()
        return True

    def close(self, code: int, reason: str = "") -> None:
        """Start the closing handshake; the read loop notices its end and disconnects."""
        if self.is_open:
            self.protocol.send_close(code, reason)
            self.flush()

    def flush(self) -> None:
        """Write what the protocol produced; an empty chunk means half-close the TCP stream."""
        for chunk in self.protocol.data_to_send():
            _write(self.writer, chunk)
        if self.protocol.close_expected() and self._close_timer is None:
            loop = asyncio.get_running_loop()
            self._close_timer = loop.call_later(CLOSE_TIMEOUT, self.writer.transport.abort)

    def cancel_close_timer(self) -> None:
        if self._close_timer is not None:
            self._close_timer.cancel()


class WebSocketGateway:
    """API Gateway WebSocket API + @connections Management API for one WsApi, on one port."""

    def __init__(self, api: WsApi, invoke: Invoke, host="127.0.0.1", port=0, region="us-east-1",
                 log=None):
        self.api = api
        self.invoke = invoke
        self.host = host
        self.port = port
        self.region = region
        self.log = log or logging.getLogger("localcloud.ws")
        self.api_id = _api_id(api.logical_id)
        self._clients: dict = {}
        self._tasks: set = set()
        self._http_writers: set = set()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._server = None
        self._executor: Optional[ThreadPoolExecutor] = None
        self._start_error: Optional[BaseException] = None

    @property
    def _public_host(self) -> str:
        return public_host(self.host)

    @property
    def url(self) -> str:
        """What WebSocket clients connect to."""
        return f"ws://{self._public_host}:{self.port}/{self.api.stage}"

    @property
    def management_endpoint(self) -> str:
        """endpoint_url for a boto3 apigatewaymanagementapi client."""
        return f"http://{self._public_host}:{self.port}/{self.api.stage}"

    def connections(self) -> list:
        """The open connections, oldest first: id, connected_at (epoch), path (with query), source_ip."""
        clients = [c for c in list(self._clients.values()) if c.is_open]
        return [{"id": c.id, "connected_at": c.connected_at, "last_active_at": c.last_active_at, "path": c.path,
                 "source_ip": c.source_ip, "user_agent": c.user_agent}
                for c in sorted(clients, key=lambda c: c.connected_at)]

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Bind the port and serve from a daemon thread; returns once listening."""
        self._loop = asyncio.new_event_loop()
        self._executor = ThreadPoolExecutor(INVOKE_THREADS, thread_name_prefix=f"ws-{self.api.logical_id}")
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True,
                                        name=f"ws-gateway-{self.api.logical_id}")
        self._thread.start()
        ready.wait()
        if self._start_error is not None:
            self._thread.join()
            self._executor.shutdown(wait=False)
            raise self._start_error
        self.log.info("WebSocket API %s listening on %s (management %s)",
                      self.api.logical_id, self.url, self.management_endpoint)

    def stop(self) -> None:
        """Close every client (1001 going away), stop serving and join the thread."""
        if self._thread is None or not self._thread.is_alive():
            return
        future = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        try:
            future.result(timeout=STOP_GRACE + CLOSE_TIMEOUT + 5)
        except Exception:
            self.log.exception("WebSocket API %s did not shut down cleanly", self.api.logical_id)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._on_tcp, self.host, self.port, limit=MAX_HEAD_BYTES))
        except BaseException as exc:
            self._start_error = exc
            self._loop.close()
            ready.set()
            return
        self.port = self._server.sockets[0].getsockname()[1]
        ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    async def _shutdown(self) -> None:
        self._server.close()
        for writer in list(self._http_writers):
            writer.close()
        for client in list(self._clients.values()):
            client.close(1001, "Going away")
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=STOP_GRACE)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._server.wait_closed()

    # ---- TCP dispatch ----------------------------------------------------------------------

    async def _on_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._tasks.add(asyncio.current_task())
        try:
            await self._serve_stream(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except Exception:
            self.log.exception("WebSocket API %s: connection handler failed", self.api.logical_id)
        finally:
            self._tasks.discard(asyncio.current_task())
            self._http_writers.discard(writer)
            writer.close()

    async def _serve_stream(self, reader, writer) -> None:
        """Serve HTTP requests (keep-alive) until one of them upgrades to a WebSocket."""
        self._http_writers.add(writer)
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.LimitOverrunError:
                _write_http(writer, 431, {}, b"")
                return
            request = _parse_head(head)
            if request is None:
                _write_http(writer, 400, {}, b"")
                return
            method, target, version, headers = request
            if method == "GET" and "websocket" in _header(headers, "upgrade").lower():
                self._http_writers.discard(writer)
                await self._serve_websocket(reader, writer, head)
                return
            if not await self._serve_http(reader, writer, method, target, headers):
                return
            if _header(headers, "connection").lower() == "close" or version == "HTTP/1.0":
                return

    # ---- WebSocket side --------------------------------------------------------------------

    async def _serve_websocket(self, reader, writer, head: bytes) -> None:
        protocol = ServerProtocol(max_size=MAX_MESSAGE_BYTES, logger=_PROTOCOL_LOG)
        protocol.receive_data(head)
        events = protocol.events_received()
        if not events:      # not a parseable handshake request; the protocol queued an error
            _flush_raw(protocol, writer)
            return
        request = events[0]
        response = protocol.accept(request)
        if response.status_code != 101:
            protocol.send_response(response)
            _flush_raw(protocol, writer)
            return
        peer = writer.get_extra_info("peername") or ("127.0.0.1", 0)
        client = _Client(aws_events.aws_id(), protocol, writer, request, peer[0])
        status, text = await self._connect(client)
        if status is not None:
            protocol.send_response(_reject(protocol, status, text))
            _flush_raw(protocol, writer)
            return
        self._clients[client.id] = client
        protocol.send_response(response)
        client.flush()
        worker = asyncio.ensure_future(self._process_inbox(client))
        self._tasks.add(worker)
        worker.add_done_callback(self._tasks.discard)
        try:
            await self._read_frames(client, reader)
        finally:
            self._clients.pop(client.id, None)
            client.cancel_close_timer()
            client.inbox.put_nowait(None)
        await worker

    async def _connect(self, client: _Client):
        """Run $connect; returns (None, None) to accept or (http status, body text) to reject."""
        function_id = self.api.routes.get("$connect")
        self.log.info("ws %s connect %s from %s", self.api.logical_id, client.id, client.source_ip)
        if function_id is None:
            return None, None
        event = self._connect_event(client)
        try:
            result = await self._invoke(function_id, event, "ws:$connect")
        except InvocationError as exc:
            self.log.info("ws %s connect %s rejected: $connect failed: %s",
                          self.api.logical_id, client.id, exc)
            return 500, "Internal server error"
        status = result.get("statusCode", 200) if isinstance(result, dict) else 200
        try:
            status = int(status)
        except (TypeError, ValueError):
            status = 500
        if 200 <= status < 300:
            return None, None
        self.log.info("ws %s connect %s rejected with %s", self.api.logical_id, client.id, status)
        body = result.get("body") if isinstance(result, dict) else None
        return status, body if isinstance(body, str) else _http_phrase(status)

    async def _read_frames(self, client: _Client, reader: asyncio.StreamReader) -> None:
        protocol = client.protocol
        while protocol.state is not CLOSED:
            try:
                data = await reader.read(65536)
            except ConnectionError:
                data = b""
            if data:
                protocol.receive_data(data)
            else:
                protocol.receive_eof()
            client.flush()
            for frame in protocol.events_received():
                self._on_frame(client, frame)
            if not data:
                return

    def _on_frame(self, client: _Client, frame) -> None:
        """Reassemble fragmented messages and queue complete ones; control frames need nothing."""
        if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
            client.fragments = [frame.data]
            client.fragments_text = frame.opcode is Opcode.TEXT
        elif frame.opcode is Opcode.CONT:
            client.fragments.append(frame.data)
        else:
            return
        if not frame.fin:
            return
        data, client.fragments = b"".join(client.fragments), []
        client.last_active_at = time.time()
        if client.fragments_text and not _is_utf8(data):
            client.protocol.fail(1007, "invalid UTF-8 in text message")
            client.flush()
            return
        client.inbox.put_nowait((data, client.fragments_text))

    async def _process_inbox(self, client: _Client) -> None:
        """Handle one connection's messages strictly in order, then its $disconnect."""
        while True:
            item = await client.inbox.get()
            if item is None:
                break
            try:
                await self._on_message(client, *item)
            except Exception:
                self.log.exception("ws %s message on %s failed", self.api.logical_id, client.id)
        await self._disconnect(client)

    async def _on_message(self, client: _Client, data: bytes, is_text: bool) -> None:
        body = data.decode() if is_text else base64.b64encode(data).decode()
        route = self._select_route(body if is_text else None)
        request_id = aws_events.aws_id()
        self.log.info("ws %s message %s route=%s %d bytes: %s", self.api.logical_id, client.id,
                      route, len(data), _preview(body))
        if route is None:
            client.send(_error_frame("Forbidden", client.id, request_id))
            return
        event = self._message_event(client, route, body, not is_text, request_id)
        try:
            result = await self._invoke(self.api.routes[route], event, f"ws:{route}")
        except InvocationError as exc:
            self.log.info("ws %s route %s failed on %s: %s", self.api.logical_id, route, client.id, exc)
            client.send(_error_frame("Internal server error", client.id, request_id))
            return
        # AWS only sends a handler's body back when the route has a route response (two-way
        # route); SAM templates can't declare one per function, so every route acts two-way here.
        reply = result.get("body") if isinstance(result, dict) else None
        if isinstance(reply, str) and client.send(reply):
            self.log.info("ws %s reply to %s: %s", self.api.logical_id, client.id, _preview(reply))

    async def _disconnect(self, client: _Client) -> None:
        protocol = client.protocol
        code = protocol.close_code or 1006
        self.log.info("ws %s disconnect %s (%s)", self.api.logical_id, client.id, code)
        function_id = self.api.routes.get("$disconnect")
        if function_id is None:
            return
        event = self._disconnect_event(client, code, protocol.close_reason or "")
        try:
            await self._invoke(function_id, event, "ws:$disconnect")
        except InvocationError as exc:
            self.log.info("ws %s $disconnect of %s failed: %s", self.api.logical_id, client.id, exc)

    def _select_route(self, body: Optional[str]) -> Optional[str]:
        """Evaluate route_selection_expression ($request.body.a.b) against a JSON body."""
        fallback = "$default" if "$default" in self.api.routes else None
        match = re.fullmatch(r"\$\{?request\.body\.([^}]+)\}?", self.api.route_selection_expression.strip())
        if match is None or body is None:
            return fallback
        try:
            value = json.loads(body)
        except ValueError:
            return fallback
        for key in match.group(1).split("."):
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str) and value in self.api.routes and value not in SPECIAL_ROUTES:
            return value
        return fallback

    async def _invoke(self, function_id: str, event: dict, trigger: str):
        """Run the blocking invoke on the executor; unexpected errors count as handler failures."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, self.invoke, function_id, event, trigger)
        except InvocationError:
            raise
        except Exception as exc:
            self.log.exception("invoke %s for %s crashed", function_id, trigger)
            raise InvocationError(str(exc), type(exc).__name__) from exc

    # ---- events ------------------------------------------------------------------------------

    def _request_context(self, client: _Client, route: str, event_type: str) -> dict:
        return aws_events.ws_request_context(
            route, event_type, client.id, client.connected_at, self.api.stage, self.api_id,
            f"{self._public_host}:{self.port}", client.source_ip, client.user_agent)

    def _connect_event(self, client: _Client) -> dict:
        return aws_events.ws_connect_event(self._request_context(client, "$connect", "CONNECT"), client.headers,
                                           client.path, client.source_ip, self.port)

    def _message_event(self, client, route, body, is_base64, request_id) -> dict:
        context = self._request_context(client, route, "MESSAGE")
        return aws_events.ws_message_event(context, body, is_base64, request_id)

    def _disconnect_event(self, client, code: int, reason: str) -> dict:
        headers = [("Host", f"{self._public_host}:{self.port}"), ("x-api-key", ""),
                   ("X-Forwarded-For", ""), ("x-restapi", "")]
        context = self._request_context(client, "$disconnect", "DISCONNECT")
        context["disconnectStatusCode"] = code
        context["disconnectReason"] = reason
        return {"headers": dict(headers), "multiValueHeaders": aws_events.multi(headers),
                "requestContext": context, "isBase64Encoded": False}

    # ---- Management API ----------------------------------------------------------------------

    async def _serve_http(self, reader, writer, method, target, headers) -> bool:
        """Answer one Management API request; False when the stream can't be reused."""
        refusal = _management_refusal(headers, writer.get_extra_info("peername"))
        if refusal:
            self.log.info("ws %s management %s %s refused: %s", self.api.logical_id, method,
                          urlsplit(target).path[:200], refusal)
            _write_http(writer, 403, {"x-amzn-ErrorType": "ForbiddenException", "Connection": "close"},
                        _json({"message": f"Forbidden: {refusal}"}))
            return False
        if _header(headers, "transfer-encoding"):
            _write_http(writer, 411, {"Connection": "close"}, _json({"message": "Length Required"}))
            return False
        raw_length = (_header(headers, "content-length") or "0").strip()
        if not raw_length.isdigit():
            _write_http(writer, 400, {"Connection": "close"}, _json({"message": "Invalid Content-Length"}))
            return False
        length = int(raw_length)
        if length > MAX_MESSAGE_BYTES:  # PostToConnection's own limit: nothing larger is ever read
            _write_http(writer, 413, {"Connection": "close"},
                        _json({"message": f"Payload over {MAX_MESSAGE_BYTES} bytes"}))
            return False
        if _header(headers, "expect").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        try:
            body = await asyncio.wait_for(reader.readexactly(length), MANAGEMENT_READ_TIMEOUT) if length else b""
        except (asyncio.TimeoutError, asyncio.IncompleteReadError):
            _write_http(writer, 400, {"Connection": "close"}, _json({"message": "Incomplete request body"}))
            return False
        status, extra, payload = self._management(method, urlsplit(target).path, body)
        _write_http(writer, status, extra, payload)
        await writer.drain()
        return True

    def _management(self, method: str, path: str, body: bytes):
        """Route a Management API call; returns (status, headers, body)."""
        match = CONNECTIONS_PATH.match(path)
        connection_id = unquote(match.group(1)) if match else None
        client = self._clients.get(connection_id)
        status, extra, payload = self._connection_call(method, client, body) if match else (
            404, {"x-amzn-ErrorType": "NotFoundException"}, _json({"message": "Not Found"}))
        self.log.info("ws %s management %s %s -> %d (%d bytes)", self.api.logical_id, method,
                      connection_id or path, status, len(body))
        return status, extra, payload

    def _connection_call(self, method: str, client: Optional[_Client], body: bytes):
        if method not in ("POST", "GET", "DELETE"):
            return 405, {"x-amzn-ErrorType": "MethodNotAllowedException"}, _json({"message": None})
        if client is None or not client.is_open:
            return 410, {"x-amzn-ErrorType": "GoneException"}, _json({"message": None})
        if method == "GET":
            return 200, {}, _json({
                "connectedAt": _iso(client.connected_at),
                "identity": {"sourceIp": client.source_ip, "userAgent": client.user_agent},
                "lastActiveAt": _iso(client.last_active_at),
            })
        if method == "DELETE":
            client.close(1000)
            return 204, {}, b""
        if len(body) > MAX_MESSAGE_BYTES:
            return 413, {"x-amzn-ErrorType": "PayloadTooLargeException"}, _json(
                {"message": "Message too long"})
        client.send(body)
        return 200, {}, b""


# ---- helpers -----------------------------------------------------------------------------------

def _management_refusal(headers, peer) -> str:
    """Why a Management API request must not be served, or "". Only functions and the console call it, from
    this machine and never from a browser: a web page could otherwise POST to or DELETE any connection (a
    cross-site request needs no answer to do harm), and with the gateway bound to every interface (a container)
    so could any machine that reaches the port. Browsers send Origin on cross-site POST/DELETE and fetch, and
    Sec-Fetch-Site on every request; boto3 sends neither."""
    if _header(headers, "origin") or _header(headers, "sec-fetch-site"):
        return "browser requests are not accepted"
    try:
        address = ipaddress.ip_address((peer or ("",))[0].split("%")[0])
    except ValueError:
        return "caller's address unknown"
    address = getattr(address, "ipv4_mapped", None) or address
    if not address.is_loopback:
        return "only callers on this machine"
    return ""


def _api_id(logical_id: str) -> str:
    digits = int(hashlib.sha1(logical_id.encode()).hexdigest(), 16)
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    return "".join(alphabet[(digits >> (6 * i)) % 36] for i in range(10))


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _json(value) -> bytes:
    return json.dumps(value).encode()


def _error_frame(message: str, connection_id: str, request_id: str) -> str:
    return json.dumps({"message": message, "connectionId": connection_id, "requestId": request_id})


def _preview(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + f"...(+{len(text) - limit} chars)"


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _http_phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _reject(protocol: ServerProtocol, status: int, text: str):
    if not _http_phrase(status) or status < 300:     # a 1xx can't end a handshake
        status = 500
    return protocol.reject(status, text)


def _parse_head(head: bytes):
    """Split an HTTP request head into (method, target, version, [(name, value)]), None if bad."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        return None
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            return None
        headers.append((name.strip(), value.strip()))
    return parts[0], parts[1], parts[2], headers


def _header(headers, name: str) -> str:
    for key, value in headers:
        if key.lower() == name:
            return value
    return ""


def _write(writer: asyncio.StreamWriter, chunk: bytes) -> None:
    try:
        if chunk:
            writer.write(chunk)
        elif writer.can_write_eof():
            writer.write_eof()
        else:
            writer.close()
    except (OSError, RuntimeError):
        pass    # the peer is gone; the read loop sees EOF and cleans up


def _flush_raw(protocol: ServerProtocol, writer: asyncio.StreamWriter) -> None:
    for chunk in protocol.data_to_send():
        _write(writer, chunk)


def _write_http(writer, status: int, extra: dict, body: bytes) -> None:
    lines = [f"HTTP/1.1 {status} {_http_phrase(status)}",
             f"x-amzn-RequestId: {uuid.uuid4()}",
             "Content-Type: application/json"]
    lines += [f"{key}: {value}" for key, value in extra.items()]
    if status != 204:
        lines.append(f"Content-Length: {len(body)}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
