"""The Lambda Invoke API of the local cloud: `boto3.client("lambda").invoke(...)` in a function reaches the
template's functions here, not moto's Lambda (which runs nothing without Docker).

Every function's environment names this server in AWS_ENDPOINT_URL_LAMBDA (botocore's service-specific
endpoint variable), so a client built with no endpoint_url comes here. It answers as Lambda does:

- POST /2015-03-31/functions/{name}/invocations, name a function name, ARN or partial ARN (a `:$LATEST` or
  `?Qualifier=$LATEST` qualifier allowed);
- X-Amz-Invocation-Type RequestResponse (the default): 200 and the handler's result; a handler error is
  200 with X-Amz-Function-Error: Unhandled and {errorMessage, errorType, stackTrace};
- Event: 202 at once, the function run in the background and retried twice after an error (Lambda's
  asynchronous invocation), then dropped with an error line; DryRun: 204;
- payloads over 6 MB (RequestResponse) or 1 MB (Event): 413 RequestEntityTooLargeException; an unknown
  function: 404 ResourceNotFoundException. Any other Lambda API call is answered 501, naming it.
"""
import json
import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

from .async_sources import ATTEMPTS
from .http_gateway import BadRequest, _Server, public_host, read_body
from .model import InvocationError

log = logging.getLogger("localcloud.lambda")
SYNC_LIMIT = 6 * 1024 * 1024          # RequestResponse payload quota
ASYNC_LIMIT = 1024 * 1024             # Event payload quota (1 MB since October 2025; it was 256 KB)
INVOKE_PATH = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations$")
FUNCTION_NAME = re.compile(r"^(?:arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:)?(?:\d{12}:)?(?:function:)?"
                           r"([a-zA-Z0-9_.-]+)(?::([$a-zA-Z0-9_.-]+))?$")


class LambdaApi:
    """Serves the Invoke API for the functions of one stack on its own port (bound at once, served from
    start(), so the port can go into the functions' environment before they exist)."""

    def __init__(self, names, host="127.0.0.1", port=0, retry_delay=1.0, async_workers=8):
        self.names = names                # () -> {function name: logical id} of the functions running now
        self.invoke = None                # set before start(): Runtime.invoke
        self.retry_delay = retry_delay    # seconds before the n-th retry of an Event invocation: n * retry_delay
        self.server = _Server((host, port), self._handler_class())
        self.host, self.port = self.server.server_address[:2]
        self._events = ThreadPoolExecutor(async_workers, thread_name_prefix="lambda-event")
        self._stop = threading.Event()
        self.thread = None

    @property
    def url(self):
        """The endpoint functions and tests give to boto3's lambda client."""
        return f"http://{public_host(self.host)}:{self.port}"

    def start(self, invoke):
        """Serve in a daemon thread, invoking through invoke(function_id, event, trigger)."""
        self.invoke = invoke
        self.thread = threading.Thread(target=self.server.serve_forever, name="lambda-api", daemon=True)
        self.thread.start()
        return self

    def stop(self):
        """Stop serving; Event invocations still waiting for a retry are dropped."""
        self._stop.set()
        if self.thread:
            self.server.shutdown()
        self.server.server_close()
        self._events.shutdown(wait=False, cancel_futures=True)

    # -- one request ---------------------------------------------------------------------------------
    def handle(self, req):
        """Answer one HTTP request."""
        parts = urlsplit(req.path)
        match = INVOKE_PATH.match(parts.path)
        try:
            body = read_body(req.headers, req.rfile, SYNC_LIMIT + 1)
        except BadRequest as exc:
            return self._error(req, exc.status, "RequestEntityTooLargeException" if exc.status == 413
                               else "InvalidRequestContentException", str(exc))
        if req.command != "POST" or not match:
            log.warning("Lambda API call %s %s is not emulated locally (only Invoke is)", req.command, parts.path)
            return self._error(req, 501, "ServiceException",
                               f"{req.command} {parts.path}: only the Invoke API is emulated by the local cloud")
        qualifier = parse_qs(parts.query).get("Qualifier", [None])[0]
        function_id = self._function(unquote(match.group(1)), qualifier)
        if function_id is None:
            named = unquote(match.group(1)) + (f":{qualifier}" if qualifier else "")
            return self._error(req, 404, "ResourceNotFoundException",
                               f"Function not found: {named} (no function of this stack running locally)")
        kind = req.headers.get("X-Amz-Invocation-Type") or "RequestResponse"
        limit = {"RequestResponse": SYNC_LIMIT, "Event": ASYNC_LIMIT, "DryRun": SYNC_LIMIT}.get(kind)
        if limit is None:
            return self._error(req, 400, "InvalidParameterValueException", f"Invalid InvocationType: {kind}")
        if len(body) > limit:
            operation = "InvokeAsync" if kind == "Event" else "Invoke"
            return self._error(req, 413, "RequestEntityTooLargeException",
                               f"Request must be smaller than {limit} bytes for the {operation} operation")
        try:
            event = json.loads(body) if body.strip() else {}
        except ValueError:
            return self._error(req, 400, "InvalidRequestContentException",
                               "Could not parse request body into json: the payload is not JSON")
        if kind == "DryRun":
            return self._send(req, 204, b"")
        if kind == "Event":
            self._events.submit(self._run_event, function_id, event)
            return self._send(req, 202, b"")
        try:
            result = self.invoke(function_id, event, "lambda:invoke")
        except InvocationError as exc:
            error = {"errorMessage": str(exc), "errorType": exc.error_type,
                     "stackTrace": exc.trace.splitlines()}
            return self._send(req, 200, json.dumps(error).encode(), {"X-Amz-Function-Error": "Unhandled"})
        return self._send(req, 200, json.dumps(result).encode())

    def _function(self, name, qualifier):
        match = FUNCTION_NAME.match(name)
        if not match:
            return None
        qualifier = match.group(2) or qualifier
        if qualifier not in (None, "$LATEST"):
            return None                   # versions and aliases are not published locally
        return self.names().get(match.group(1))

    def _run_event(self, function_id, event):
        """An Event invocation: the first attempt and Lambda's two retries, then dropped with an error line."""
        for attempt in range(1, ATTEMPTS + 1):
            if self._stop.is_set():
                return
            try:
                self.invoke(function_id, event, "lambda:event")
                return
            except InvocationError as exc:
                if attempt == ATTEMPTS:
                    log.error("Event invocation of %s dropped after %d attempts: %s: %s", function_id, attempt,
                              exc.error_type, exc, extra={"function": function_id})
                    return
                self._stop.wait(self.retry_delay * attempt)
            except Exception:  # noqa: BLE001 - a thread of the pool must not die silently
                log.exception("Event invocation of %s failed", function_id)
                return

    def _error(self, req, status, error_type, message):
        return self._send(req, status, json.dumps({"Type": "User", "message": message}).encode(),
                          {"x-amzn-ErrorType": error_type})

    @staticmethod
    def _send(req, status, body, headers=None):
        req.send_response(status)
        req.send_header("Content-Type", "application/json")
        req.send_header("Content-Length", str(len(body)))
        if status in (200, 202, 204):
            req.send_header("X-Amz-Executed-Version", "$LATEST")
        for name, value in (headers or {}).items():
            req.send_header(name, value)
        req.end_headers()
        req.wfile.write(body)

    def _handler_class(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                api.handle(self)

            do_GET = do_PUT = do_DELETE = do_POST

            def log_message(self, fmt, *args):
                pass
        return Handler
