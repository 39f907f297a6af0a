"""One Lambda execution environment: imports a handler once, then serves invocations from stdin.

Protocol: one JSON request per line on stdin, one JSON reply per line on the original stdout;
the handler's own prints and logs go to stderr, which the runtime forwards to its log.
"""
import importlib
import importlib.util
import json
import logging
import os
import re
import sys
import time
import traceback
from urllib.parse import urlsplit

EXECUTE_API_HOST = re.compile(r"([a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com")


class Context:
    """The subset of the Lambda context object handlers use."""

    def __init__(self, request):
        self.function_name = request["function_name"]
        self.function_version = "$LATEST"
        self.invoked_function_arn = request["arn"]
        self.memory_limit_in_mb = request["memory"]
        self.aws_request_id = request["request_id"]
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"
        self._deadline = request["deadline"]

    def get_remaining_time_in_millis(self):
        """Milliseconds left before the runtime kills this invocation."""
        return max(0, int((self._deadline - time.time()) * 1000))


class _RequestId(logging.Filter):
    """Puts the current invocation's request id on every record, as Lambda's log handler does."""
    request_id = None

    def filter(self, record):
        record.aws_request_id = self.request_id
        return True


def _lambda_log_handler():
    """The handler Lambda's Python runtime puts on the root logger before it imports the function: so
    `logging.getLogger().setLevel(logging.INFO); logger.info(...)` shows as on AWS (without it Python's last-resort
    handler drops everything under WARNING). Lambda's text format, times in UTC."""
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
                                  "%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.addFilter(_RequestId())
    logging.getLogger().addHandler(handler)


def _preload(paths):
    """Test-only modules named by LOCAL_PRELOAD (file paths), imported before the handler: the seam through
    which tests inject faults into a worker process without hooks in the product code."""
    for n, path in enumerate(p for p in paths.split(os.pathsep) if p):
        spec = importlib.util.spec_from_file_location(f"_local_preload_{n}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)


def _management_api_over_http(apis):
    """Send a function's API Gateway Management API calls for this stack's WebSocket APIs to their local gateways.
    On AWS a function may build the endpoint from its event, `https://{domainName}/{stage}` (here the domain is the
    gateway's host:port) or `https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`; the local gateways speak
    plain http. Every botocore session made in this process gets a before-send handler that rewrites such a request
    to `http://<gateway>/<same path>` (the template's own execute-api URLs were rewritten when it was read).
    apis: LOCAL_WEBSOCKET_APIS, JSON {api id: "http://host:port"}."""
    gateways = json.loads(apis or "{}")
    if not gateways:
        return
    try:
        from botocore import handlers
    except ImportError:     # no botocore on the path: the function makes no such call
        return
    by_netloc = {urlsplit(base).netloc: base for base in gateways.values()}

    def to_local_gateway(request, **_):
        parts = urlsplit(request.url)
        if parts.scheme != "https":
            return
        aws_host = EXECUTE_API_HOST.fullmatch(parts.hostname or "")
        base = gateways.get(aws_host.group(1)) if aws_host else by_netloc.get(parts.netloc)
        if base:
            request.url = base + parts.path + (f"?{parts.query}" if parts.query else "")

    handlers.BUILTIN_HANDLERS.append(("before-send.apigatewaymanagementapi", to_local_gateway))


def _load(handler):
    module_name, _, attr = handler.rpartition(".")
    # A path in the handler (src/handlers/app.handler) names a package module, as Lambda's runtime reads it.
    module = importlib.import_module(module_name.replace("/", "."))
    return getattr(module, attr)


def _standard_modules():
    """Names of the imported modules whose file is in the standard library's folder (not in a site-packages)."""
    root = os.path.join(os.path.dirname(os.__file__), "")
    return sorted(name for name, module in list(sys.modules.items())
                  if name != "__main__" and isinstance(getattr(module, "__file__", None), str)
                  and module.__file__.startswith(root) and "site-packages" not in module.__file__)


def _error(exc):
    return {"ok": False, "error_type": type(exc).__name__, "message": str(exc),
            "trace": "".join(traceback.format_exception(exc))}


def main():
    """Serve invocations until stdin closes."""
    if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
        sys.path.pop(0)  # the local cloud's own modules must not shadow the function's
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    # Code folder, layers, then (isolated) the function's requirements and the runtime's boto3, as on Lambda.
    sys.path[:0] = [p for p in os.environ.get("LOCAL_SYS_PATH", os.environ["LAMBDA_TASK_ROOT"]).split(os.pathsep) if p]
    os.chdir(os.environ["LAMBDA_TASK_ROOT"])
    _lambda_log_handler()
    handler, init_error = None, None
    try:
        _management_api_over_http(os.environ.get("LOCAL_WEBSOCKET_APIS"))
        _preload(os.environ.get("LOCAL_PRELOAD", ""))
        handler = _load(os.environ["_HANDLER"])
    except Exception as exc:  # reported on every invocation, as Lambda's Runtime.ImportModuleError is
        init_error = _error(exc)
        init_error["error_type"] = "Runtime.ImportModuleError"
    # The standard modules the init imported: the runtime preloads them in a zygote (zygote.py) for the next cold
    # starts of this interpreter.
    replies.write(json.dumps({"ready": True, "standard": _standard_modules()}) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        _RequestId.request_id = request.get("request_id")
        if init_error:
            reply = init_error
        else:
            try:
                result = handler(request["event"], Context(request))
                reply = {"ok": True, "result": result}
                json.dumps(reply)
            except Exception as exc:
                reply = _error(exc)
            except SystemExit as exc:
                reply = _error(RuntimeError(f"handler called exit({exc.code})"))
        sys.stderr.flush()
        replies.write(json.dumps(reply, default=str) + "\n")


if __name__ == "__main__":
    main()
