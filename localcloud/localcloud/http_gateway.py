"""The local API Gateway for REST (payload 1.0) and HTTP (payload 2.0) APIs: one port per API.

Builds the same proxy event API Gateway sends, routed by the template's path templates, invokes
the function and turns its proxy response back into HTTP (base64 bodies included).
"""
import base64
import json
import logging
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from . import events
from .api_access import Access, Refused
from .model import InvocationError, Route
from .template import api_id

log = logging.getLogger("localcloud.http")
MAX_REQUEST_BODY = 10 * 1024 * 1024   # API Gateway's payload limit
MAX_LAMBDA_RESPONSE = 6 * 1024 * 1024  # Lambda's synchronous response limit
READ_TIMEOUT = 30                      # seconds a client may take to send a request or stay idle
LISTEN_BACKLOG = 512


class BadRequest(Exception):
    """The request cannot be read: answered with its status, the connection closed."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def read_body(headers, stream, limit=None):
    """The request body by Content-Length or chunked transfer coding, bounded; BadRequest when malformed."""
    limit = MAX_REQUEST_BODY if limit is None else limit
    if "chunked" in (headers.get("Transfer-Encoding") or "").lower():
        return _read_chunked(stream, limit)
    raw = headers.get("Content-Length")
    if raw is None or raw.strip() == "":
        return b""
    if not raw.strip().isdigit():
        raise BadRequest(400, f"Invalid Content-Length: {raw[:40]!r}")
    length = int(raw)
    if length > limit:
        raise BadRequest(413, f"HTTP content length exceeded {limit} bytes.")
    body = stream.read(length)
    if len(body) < length:
        raise BadRequest(400, "The request body ended before Content-Length bytes")
    return body


def _read_chunked(stream, limit):
    parts, total = [], 0
    while True:
        line = stream.readline(1024)
        size_text = line.split(b";")[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise BadRequest(400, "Malformed chunked body") from None
        if size < 0:
            raise BadRequest(400, "Malformed chunked body")
        if size == 0:
            while stream.readline(1024) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(parts)
        total += size
        if total > limit:
            raise BadRequest(413, f"HTTP content length exceeded {limit} bytes.")
        chunk = stream.read(size)
        if len(chunk) < size or stream.read(2) not in (b"\r\n",):
            raise BadRequest(400, "Malformed chunked body")
        parts.append(chunk)


class _Server(ThreadingHTTPServer):
    request_queue_size = LISTEN_BACKLOG  # the default 5 drops SYNs when many clients connect at once
    daemon_threads = True


class CompiledRoute:
    """A template route as a regex; more literal segments sort first, as API Gateway prefers them."""

    def __init__(self, route):
        self.route = route
        parts, self.params = [], []
        for seg in route.path.strip("/").split("/") if route.path not in ("/", "$default") else []:
            greedy = re.fullmatch(r"\{(\w+)\+\}", seg)
            plain = re.fullmatch(r"\{(\w+)\}", seg)
            if greedy:
                self.params.append(greedy.group(1))
                parts.append("(.+)")
            elif plain:
                self.params.append(plain.group(1))
                parts.append("([^/]+)")
            else:
                parts.append(re.escape(seg))
        self.default = route.path == "$default"
        self.regex = re.compile("^/" + "/".join(parts) + "/?$") if not self.default else re.compile(".*")
        literal = sum(1 for p in parts if not p.startswith("("))
        self.rank = (self.default, -literal, any(p == "(.+)" for p in parts), route.method == "ANY")

    def match(self, method, path):
        """Path parameters if this route serves method+path, else None."""
        if self.route.method not in ("ANY", method):
            return None
        m = self.regex.match(path)
        if not m:
            return None
        return {name: unquote(value) for name, value in zip(self.params, m.groups())}


def public_host(host):
    """The address clients use for a server bound to host: a wildcard bind (in a container) is reached on loopback."""
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host


class HttpGateway:
    """Serves one REST/HTTP API of the template on its own port."""

    def __init__(self, api, invoke, host="127.0.0.1", port=0, region="us-east-1", api_keys=None):
        self.api = api
        self.api_keys = api_keys      # api_keys.ApiKeys of this API's stage: checks ApiKeyRequired methods
        self.invoke = invoke
        self.region = region
        self.routes = sorted((CompiledRoute(r) for r in api.routes), key=lambda c: c.rank)
        self.access = Access(api, invoke, region, api_id(api.logical_id))
        self.server = _Server((host, port), self._handler_class())
        self.host, self.port = self.server.server_address[:2]
        self.thread = None

    @property
    def url(self):
        """Base URL of this API (stage prefix optional)."""
        return f"http://{public_host(self.host)}:{self.port}"

    def start(self):
        """Serve in a daemon thread."""
        self.thread = threading.Thread(target=self.server.serve_forever, name=f"http-{self.api.logical_id}",
                                       daemon=True)
        self.thread.start()

    def stop(self):
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()

    def _handler_class(self):
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = READ_TIMEOUT  # a half-open or silent client frees its thread instead of holding it

            def setup(self):
                super().setup()
                # Headers and body leave in two writes; with Nagle on, keep-alive clients wait ~40 ms for each.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_ANY(self):
                gateway.handle(self)

            def __getattr__(self, name):
                # Any method (TRACE, QUERY, ...) reaches routing, which answers as API Gateway does.
                if name.startswith("do_"):
                    return self.do_ANY
                raise AttributeError(name)

            def log_message(self, fmt, *args):
                pass  # every request is logged once by handle()
        return Handler

    # -- one request -------------------------------------------------------------------------------
    def handle(self, req):
        """Route, invoke and answer one HTTP request."""
        started = time.time()
        split = urlsplit(req.path)
        path = self._strip_stage(split.path or "/")
        method = req.command
        try:
            body = read_body(req.headers, req.rfile)
        except BadRequest as exc:
            self._refuse(req, exc, split.path, started)
            return
        except OSError:  # the client went silent past READ_TIMEOUT or hung up
            req.close_connection = True
            return
        route, params = self._route(method, path)
        answer = self._preflight(req, method, path, split.query)
        if answer:
            status, headers, payload = answer
        elif route is None:
            status, headers, payload = self._not_found()
        else:
            event = (self._event_v2 if self.api.payload_version == "2.0" else self._event_v1)(
                req, method, path, split.query, body, route, params)
            try:
                if route.authorizer:
                    event["requestContext"]["authorizer"] = self.access.authorize(
                        route.authorizer, method, path, list(req.headers.items()), dict(parse_qsl(split.query)),
                        event, route.scopes)
                if route.api_key_required:
                    self._check_api_key(req)
                status, headers, payload = self._call(route, event)
            except Refused as refused:
                log.info("%s %s %s refused by the authorizer: %s", self.api.logical_id, method, split.path[:200],
                         refused)
                status, headers, payload = refused.answer
        if not answer:
            headers = self.access.response_headers(list(req.headers.items()), headers)
        req.send_response(status)
        for name, value in headers:
            req.send_header(name, value)
        req.send_header("Content-Length", str(len(payload)))
        req.end_headers()
        if method != "HEAD":
            req.wfile.write(payload)
        # The query string is never logged: tokens and webhook secrets travel there.
        log.info("%s %s %s -> %s (%.1f ms)", self.api.logical_id, method, split.path[:200], status,
                 (time.time() - started) * 1000)

    def _refuse(self, req, exc, path, started):
        payload = json.dumps({"message": str(exc)}).encode()
        req.close_connection = True  # the rest of the body (if any) is not read
        req.send_response(exc.status)
        req.send_header("Content-Type", "application/json")
        req.send_header("Content-Length", str(len(payload)))
        req.send_header("Connection", "close")
        req.end_headers()
        req.wfile.write(payload)
        log.info("%s %s %s -> %s refused: %s (%.1f ms)", self.api.logical_id, req.command, path[:200],
                 exc.status, exc, (time.time() - started) * 1000)

    def _check_api_key(self, req):
        """API Gateway's check of a method with ApiKeyRequired, after its authorizer: 403 Forbidden unless the
        x-api-key header is an enabled key of a usage plan of this stage."""
        if self.api_keys is None or not self.api_keys.allowed(req.headers.get("x-api-key")):
            raise Refused(403, {"message": "Forbidden"}, "ForbiddenException", "no valid x-api-key")

    def _strip_stage(self, path):
        stage = "/" + self.api.stage
        if self.api.stage not in ("$default", "") and (path == stage or path.startswith(stage + "/")):
            return path[len(stage):] or "/"
        return path

    def _preflight(self, req, method, path, query):
        """API Gateway's own answer to a CORS preflight (SAM's OPTIONS method on a REST API, guarded by the
        default authorizer unless AddDefaultAuthorizerToCorsPreflight is false), or None."""
        if method != "OPTIONS" or not self.api.cors:
            return None
        methods = {c.route.method for c in self.routes if not c.default and c.regex.match(path)} or None
        answer = self.access.preflight(method, path, list(req.headers.items()), methods)
        if answer and self.api.preflight_authorizer and self.api.payload_version != "2.0":
            event = self._event_v1(req, method, path, query, b"", Route(path, method, ""), {})
            try:
                self.access.authorize(self.api.preflight_authorizer, method, path, list(req.headers.items()),
                                      dict(parse_qsl(query)), event)
            except Refused as refused:
                return refused.answer
        return answer

    def _route(self, method, path):
        for compiled in self.routes:
            params = compiled.match(method, path)
            if params is not None:
                return compiled.route, params
        return None, None

    def _not_found(self):
        if self.api.payload_version == "2.0":
            return 404, [("Content-Type", "application/json")], b'{"message":"Not Found"}'
        headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", "MissingAuthenticationTokenException")]
        return 403, headers, b'{"message":"Missing Authentication Token"}'

    def _call(self, route, event):
        try:
            result = self.invoke(route.function_id, event, f"http:{self.api.logical_id} {route.method} {route.path}")
        except InvocationError as exc:
            if exc.error_type == "Sandbox.Timedout":
                return 504, [("Content-Type", "application/json")], b'{"message": "Endpoint request timed out"}'
            return self._failed()
        return self._response(result)

    def _failed(self):
        """The answer to a function that failed or answered malformed: a REST API's 502, an HTTP API's 500."""
        if self.api.payload_version == "2.0":
            return 500, [("Content-Type", "application/json")], b'{"message":"Internal Server Error"}'
        return 502, [("Content-Type", "application/json")], b'{"message":"Internal server error"}'

    def _response(self, result):
        if self.api.payload_version == "2.0" and (not isinstance(result, dict) or "statusCode" not in result):
            # HTTP APIs treat a bare return value as a 200 JSON body.
            return 200, [("Content-Type", "application/json")], json.dumps(result).encode()
        if not isinstance(result, dict) or "statusCode" not in result:
            log.error("malformed Lambda proxy response: %r", str(result)[:200])
            return self._failed()
        body = result.get("body") or ""
        if len(body) > MAX_LAMBDA_RESPONSE:
            log.error("the function's response is %d bytes, over Lambda's 6 MB limit", len(body))
            return self._failed()
        payload = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
        headers = [(k, str(v)) for k, v in (result.get("headers") or {}).items() if k.lower() != "content-length"]
        for name, values in (result.get("multiValueHeaders") or {}).items():
            if name.lower() != "content-length":
                headers.extend((name, str(v)) for v in values)
        for cookie in result.get("cookies") or []:
            headers.append(("Set-Cookie", cookie))
        if not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("Content-Type", "application/json"))
        return int(result["statusCode"]), headers, payload

    # -- events ------------------------------------------------------------------------------------
    def _event_v1(self, req, method, path, query, body, route, params):
        return events.http_event_v1(method, path, query, list(req.headers.items()), body, route.path, params,
                                    **self._event_args(req))

    def _event_v2(self, req, method, path, query, body, route, params):
        route_key = "$default" if route.path == "$default" else f"{route.method} {route.path}"
        return events.http_event_v2(method, path, query, list(req.headers.items()), body, route_key, params,
                                    **self._event_args(req))

    def _event_args(self, req):
        return {"stage": self.api.stage, "api_id": api_id(self.api.logical_id),
                "domain": f"{public_host(self.host)}:{self.port}",
                "source_ip": req.client_address[0], "binary_media_types": self.api.binary_media_types}
