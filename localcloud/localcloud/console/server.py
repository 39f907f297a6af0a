"""The console's HTTP server: server-rendered pages (jinja2), Server-Sent Events for live updates,
POST forms for actions. Actions are accepted only from this machine unless allow_remote is set, and
only with the page's token (so another site open in the browser cannot post them).

A web page in the user's browser must not drive it: the console answers only to its own host names (a page
that rebinds its own name to 127.0.0.1 sends that name as Host and is refused, so it never reads the token),
takes a POST only from its own origin, and no page may frame it (no one-click forms under a decoy)."""
import html
import json
import logging
import re
import secrets
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import jinja2

from . import alarms
from .observe import Changes, Invocations, LogStore, QueueCounts, parse_query
from .resources import Resources

log = logging.getLogger("localcloud.console")
TEMPLATES = Path(__file__).resolve().parent / "templates"
LOCAL_ADDRESSES = ("127.0.0.1", "::1", "::ffff:127.0.0.1")
LOCAL_NAMES = ("127.0.0.1", "localhost", "::1")     # the Host names the console answers to, besides `names`
# Sent with every answer: no page may frame the console (its forms act in one click).
FRAME_HEADERS = {"Content-Security-Policy": "frame-ancestors 'none'", "X-Frame-Options": "DENY"}
SSE_MIN_INTERVAL = 1.0      # at most one refresh a second, however busy the cloud is
QUEUE_WATCH_INTERVAL = 1.0  # queue counts are read this often (a DLQ move or an expired visibility logs nothing)
SSE_KEEPALIVE = 15.0


class Console:
    """Observe a Cloud and serve the console. Create it before cloud.start() to catch every log line."""

    def __init__(self, cloud, host="127.0.0.1", port=0, allow_remote=False, minutes=15, names=()):
        """names: further Host names the console answers to (--console-remote NAME,...); an address it binds
        other than a wildcard is one too (an address literal cannot be rebound by a web page)."""
        self.cloud = cloud
        self.host = host
        self.port = port
        self.allow_remote = allow_remote
        self.names = {n.lower() for n in LOCAL_NAMES} | {n.strip().lower().strip("[]") for n in names if n.strip()}
        if host not in ("", "0.0.0.0", "::"):
            self.names.add(host.lower())
        self.minutes = minutes
        self.token = secrets.token_urlsafe(16)
        self.changes = Changes()
        self.invocations = Invocations(self.changes)
        self.logs = LogStore(self.changes)
        logging.getLogger().addHandler(self.logs)
        self._levels = {}
        for name in ("fn", "local"):    # functions' and the cloud's INFO lines are what the log view is for
            if logging.getLogger(name).getEffectiveLevel() > logging.INFO:
                self._levels[name] = logging.getLogger(name).level
                logging.getLogger(name).setLevel(logging.INFO)
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True)
        self.env.filters["when"] = _when
        self.env.filters["ago"] = _ago
        self.env.filters["ms"] = lambda v: f"{v:.1f} ms" if isinstance(v, (int, float)) else ""
        self.env.filters["pretty"] = _pretty
        self.env.filters["q"] = lambda v: quote(str(v), safe="")
        self._server = None
        self._thread = None
        self._resources = None
        self._streams = 0               # open event streams: the queue watcher reads moto only while a page listens
        self._joined = 0                # event streams opened so far (QueueCounts.changed)
        self._streams_lock = threading.Lock()

    @property
    def url(self):
        return f"http://{'127.0.0.1' if self.host in ('', '0.0.0.0') else self.host}:{self.port}"

    @property
    def resources(self):
        if self._resources is None:
            self._resources = Resources(self.cloud)
        return self._resources

    def start(self):
        """Hook into the started cloud's runtime and serve from a daemon thread."""
        self.cloud.runtime.observers.append(self.invocations)
        self._server = ThreadingHTTPServer((self.host, self.port), self._handler_class())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="console", daemon=True)
        self._thread.start()
        threading.Thread(target=self._watch_queues, name="console-queues", daemon=True).start()
        log.info("console at %s", self.url)
        return self

    def _watch_queues(self):
        """Tell the live pages when queue counts change: moto moves a message to its DLQ, or makes an
        in-flight one visible again, without an invocation or a log line that would tell them otherwise."""
        counts = QueueCounts()
        while self._server is not None:
            if not self._streams:       # no page open: nobody to tell, and moto is not asked every second
                time.sleep(QUEUE_WATCH_INTERVAL)
                continue
            try:
                now = [(q["id"], q["visible"], q["in_flight"], q["delayed"]) for q in self.resources.queues()]
            except Exception:  # noqa: BLE001 - moto stopping or busy: try again next time
                time.sleep(QUEUE_WATCH_INTERVAL)
                continue
            if counts.changed(now, self._joined):
                self.changes.bump()
            time.sleep(QUEUE_WATCH_INTERVAL)

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None     # ends the queue watcher and the event streams
        logging.getLogger().removeHandler(self.logs)
        for name, level in self._levels.items():
            logging.getLogger(name).setLevel(level)
        if self.cloud.runtime and self.invocations in self.cloud.runtime.observers:
            self.cloud.runtime.observers.remove(self.invocations)

    # ---- pages -------------------------------------------------------------------------------------

    def routes(self):
        return [
            ("GET", r"/", self.page_functions),
            ("GET", r"/functions", self.page_functions),
            ("GET", r"/functions/(?P<fid>[^/]+)", self.page_function),
            ("GET", r"/queues", self.page_queues),
            ("GET", r"/queues/(?P<qid>[^/]+)", self.page_queue),
            ("GET", r"/queues/(?P<qid>[^/]+)/purge", self.page_purge),
            ("POST", r"/queues/(?P<qid>[^/]+)/purge", self.do_purge),
            ("POST", r"/queues/(?P<qid>[^/]+)/redrive", self.do_redrive),
            ("GET", r"/schedules", self.page_schedules),
            ("POST", r"/schedules/(?P<name>[^/]+)/run", self.do_run_schedule),
            ("POST", r"/scheduler/(?P<group>[^/]+)/(?P<name>[^/]+)/run", self.do_run_scheduler_schedule),
            ("GET", r"/connections", self.page_connections),
            ("POST", r"/connections/(?P<api>[^/]+)/(?P<cid>[^/]+)/disconnect", self.do_disconnect),
            ("GET", r"/mail", self.page_mail),
            ("GET", r"/mail/(?P<mid>[^/]+)", self.page_message),
            ("GET", r"/mail/(?P<mid>[^/]+)/html", self.mail_html),
            ("GET", r"/logs", self.page_logs),
            ("GET", r"/alarms", self.page_alarms),
            ("GET", r"/api/state", self.api_state),
        ]

    def page_functions(self, req):
        minutes = _minutes(req.query, self.minutes)
        stats = self.invocations.stats(minutes)
        return self.render(req, "functions.html", functions=self.resources.functions(), stats=stats,
                           minutes=minutes, recent=self.invocations.recent(limit=20))

    def page_function(self, req, fid):
        fn = next((f for f in self.resources.functions() if f["id"] == fid), None)
        if fn is None:
            return self.not_found(req, f"No function {fid} runs in this cloud.")
        minutes = _minutes(req.query, self.minutes)
        return self.render(req, "function.html", fn=fn, minutes=minutes,
                           stats=self.invocations.stats(minutes).get(fid), recent=self.invocations.recent(fid, 50),
                           logs=self.logs.search(function=fid, limit=200))

    def page_queues(self, req):
        return self.render(req, "queues.html", queues=self.resources.queues())

    def page_queue(self, req, qid):
        queue = self.resources.queue(qid)
        if queue is None:
            return self.not_found(req, f"No queue {qid} in this template.")
        return self.render(req, "queue.html", queue=queue, messages=self.resources.peek(qid))

    def page_purge(self, req, qid):
        queue = self.resources.queue(qid)
        if queue is None:
            return self.not_found(req, f"No queue {qid} in this template.")
        return self.render(req, "purge.html", queue=queue)

    def do_purge(self, req, qid):
        if req.form.get("confirm", "") != qid:
            return self.redirect(req, f"/queues/{qid}/purge", "Type the queue's name to confirm the purge.", "error")
        try:
            self.resources.purge(qid)
        except Exception as exc:  # PurgeQueueInProgress: once a minute, as on AWS
            return self.redirect(req, f"/queues/{qid}", f"Not purged: {_aws_error(exc)}", "error")
        return self.redirect(req, f"/queues/{qid}", f"{qid} purged.")

    def do_redrive(self, req, qid):
        try:
            moved = self.resources.redrive(qid)
        except ValueError as exc:
            return self.redirect(req, f"/queues/{qid}", str(exc), "error")
        return self.redirect(req, f"/queues/{qid}", f"{moved} message(s) moved back to the source queue.")

    def page_schedules(self, req):
        schedules = self.resources.schedules()
        for s in schedules:
            last = self.invocations.recent(s["function"], limit=1, trigger=s["trigger"])
            s["last"] = last[0] if last else None
        return self.render(req, "schedules.html", schedules=schedules)

    def do_run_schedule(self, req, name):
        if not self.resources.run_schedule(name):
            return self.redirect(req, "/schedules", f"No schedule {name}.", "error")
        return self.redirect(req, "/schedules", f"{name} fired; its result appears below when it finishes.")

    def do_run_scheduler_schedule(self, req, group, name):
        if not self.resources.run_scheduler_schedule(group, name):
            return self.redirect(req, "/schedules", f"No Scheduler schedule {group}/{name} targets this stack.",
                                 "error")
        return self.redirect(req, "/schedules", f"{name} fired; its result appears below when it finishes.")

    def page_connections(self, req):
        return self.render(req, "connections.html", apis=self.resources.connections())

    def do_disconnect(self, req, api, cid):
        if api not in self.cloud.ws:
            return self.redirect(req, "/connections", f"No WebSocket API {api}.", "error")
        closed = self.resources.disconnect(api, cid)
        return self.redirect(req, "/connections", f"{cid} disconnected." if closed else f"{cid} was already gone.",
                             "ok" if closed else "error")

    def page_mail(self, req):
        mail = list(reversed(self.resources.mail()))
        return self.render(req, "mail.html", mail=mail)

    def page_message(self, req, mid):
        message = next((m for m in self.resources.mail() if m["id"] == mid), None)
        if message is None:
            return self.not_found(req, f"No sent email {mid}.")
        return self.render(req, "message.html", m=message)

    def mail_html(self, req, mid):
        message = next((m for m in self.resources.mail() if m["id"] == mid), None)
        if message is None or not message["html"]:
            return self.not_found(req, f"Email {mid} has no HTML part.")
        # the email's own HTML, sandboxed: no scripts, no same-origin access to the console
        return 200, {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": "sandbox"}, \
            message["html"].encode()

    def page_logs(self, req):
        fields, text = parse_query(req.query.get("q", ""))
        function = req.query.get("function") or None
        request_id = req.query.get("request") or None
        entries = self.logs.search(function=function, request_id=request_id, text=text, fields=fields)
        return self.render(req, "logs.html", entries=entries, q=req.query.get("q", ""), function=function or "",
                           request=request_id or "", functions=sorted(self.cloud.runtime.pools))

    def page_alarms(self, req):
        return self.render(req, "alarms.html", alarms=alarms.evaluate(self.cloud, self.resources, self.invocations))

    def api_state(self, req):
        """Counts as JSON, for scripts."""
        minutes = _minutes(req.query, self.minutes)
        state = {"queues": self.resources.queues(), "functions": self.invocations.stats(minutes),
                 "schedules": [dict(s, next=_when(s["next"])) for s in self.resources.schedules()],
                 "connections": self.resources.connections(), "mail": len(self.resources.mail()),
                 "alarms": alarms.evaluate(self.cloud, self.resources, self.invocations)}
        return 200, {"Content-Type": "application/json"}, json.dumps(state, default=str).encode()

    # ---- plumbing ----------------------------------------------------------------------------------

    def render(self, req, name, **context):
        flash = req.query.get("flash")
        body = self.env.get_template(name).render(
            token=self.token, can_act=self.can_act(req), path=req.path, flash=flash,
            flash_kind=req.query.get("kind", "ok"), now=time.time(), version=req.version, **context)
        return 200, {"Content-Type": "text/html; charset=utf-8"}, body.encode()

    def not_found(self, req, message):
        body = self.env.get_template("error.html").render(
            message=message, path=req.path, token=self.token, can_act=self.can_act(req), now=time.time(),
            version=req.version)
        return 404, {"Content-Type": "text/html; charset=utf-8"}, body.encode()

    def redirect(self, req, to, message, kind="ok"):
        return 303, {"Location": f"{to}?flash={quote(message)}&kind={kind}"}, b""

    def can_act(self, req):
        return self.allow_remote or req.client in LOCAL_ADDRESSES

    def refuse(self, method, headers):
        """An answer refusing a request a web page could have made, or None: a Host that is not one of the
        console's names (DNS rebinding), or a POST from another origin (a cross-site form; `Origin: null` too).
        A POST without Origin and Referer comes from a script, not a browser (browsers send Origin on every
        POST), and still needs the page's token."""
        host = headers.get("Host")
        if host is None:
            return _plain(400, "The request has no Host header.")
        if _host_name(host) not in self.names:
            return _plain(421, f"This console answers to {', '.join(sorted(self.names))} only, not to "
                               f"{host[:100]!r}. Open it as http://127.0.0.1:{self.port}/ (or start it with "
                               "--console-remote NAME to add a name).")
        if method == "POST":
            origin = headers.get("Origin")
            if origin is None and headers.get("Referer"):
                referer = urlsplit(headers["Referer"])
                origin = f"{referer.scheme}://{referer.netloc}"
            if origin is not None and origin.lower() != f"http://{host}".lower():
                return _plain(403, "Actions are accepted from the console's own pages only (this form came from "
                                   "another site).")
        return None

    def dispatch(self, req):
        for method, pattern, view in self.routes():
            match = re.fullmatch(pattern, req.path)
            if match and method == req.method:
                if method == "POST":
                    if not self.can_act(req):
                        return _plain(403, "Actions are allowed from this machine only (the console is "
                                           "read-only for other addresses). Open it on 127.0.0.1.")
                    if req.form.get("token") != self.token:
                        return _plain(403, "This form is out of date (the console restarted). Reload the page "
                                           "and try again.")
                return view(req, **match.groupdict())
        if any(re.fullmatch(p, req.path) for _m, p, _v in self.routes()):
            return _plain(405, f"{req.method} is not allowed here.")
        return self.not_found(req, f"Nothing at {req.path}.")

    def _handler_class(self):
        console = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

            def _serve(self, method):
                refused = console.refuse(method, self.headers)
                if refused is not None:         # before reading anything else of the request
                    self.close_connection = True
                    return self._answer(*refused)
                split = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(split.query).items()}
                form = {}
                if method == "POST":
                    length = int(self.headers.get("Content-Length") or 0)
                    form = {k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if split.path == "/events":
                    return self._events(query.get("since"))
                # The version before the view reads anything: its page's stream starts from it (see _events).
                req = Request(method, split.path.rstrip("/") or "/", query, form, self.client_address[0],
                              console.changes.version)
                try:
                    status, headers, body = console.dispatch(req)
                except Exception as exc:
                    log.exception("console %s %s failed", method, self.path)
                    status, headers, body = _plain(500, f"The console could not show this: {exc}. "
                                                        "The local cloud's terminal has the traceback.")
                self._answer(status, headers, body)

            def _answer(self, status, headers, body):
                self.send_response(status)
                self._send_headers(dict(headers, **{"Content-Length": str(len(body)), "Cache-Control": "no-store"}))
                self.wfile.write(body)

            def _send_headers(self, headers):
                """headers, a view's own CSP (the email's sandbox) extended with the frame policy."""
                for key, value in headers.items():
                    if key == "Content-Security-Policy":
                        value = f"{value}; {FRAME_HEADERS[key]}"
                    self.send_header(key, value)
                self.end_headers()

            def send_header(self, keyword, value):
                self._frame_headers_sent = getattr(self, "_frame_headers_sent", set()) | {keyword.lower()}
                super().send_header(keyword, value)

            def end_headers(self):
                """FRAME_HEADERS on every answer, also the errors BaseHTTPRequestHandler writes itself (501, 400)."""
                sent = getattr(self, "_frame_headers_sent", set())
                for key, value in FRAME_HEADERS.items():
                    if key.lower() not in sent:
                        super().send_header(key, value)
                self._frame_headers_sent = set()
                super().end_headers()

            def _events(self, since=None):
                """Server-Sent Events: 'change' at most once a second while anything changes. `since` is the
                version the page was rendered at: a change between the render and this stream's start is told
                at once (counted from now, it would wait for the next change, and the page would stay stale)."""
                self.send_response(200)
                self._send_headers({"Content-Type": "text/event-stream", "Cache-Control": "no-store"})
                seen = console.changes.version
                if since is not None and since.isdigit() and int(since) <= seen:
                    seen = int(since)
                with console._streams_lock:
                    console._streams += 1
                    console._joined += 1
                try:
                    self.wfile.write(b"retry: 2000\n\n")
                    self.wfile.flush()
                    while console._server is not None:
                        version = console.changes.wait(seen, SSE_KEEPALIVE)
                        if version == seen:
                            self.wfile.write(b": keepalive\n\n")
                        else:
                            seen = version
                            self.wfile.write(f"event: change\ndata: {version}\n\n".encode())
                        self.wfile.flush()
                        time.sleep(SSE_MIN_INTERVAL)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with console._streams_lock:
                        console._streams -= 1
                self.close_connection = True

            def log_message(self, fmt, *args):
                pass

        return Handler


class Request:
    def __init__(self, method, path, query, form, client, version=0):
        self.method, self.path, self.query, self.form, self.client = method, path, query, form, client
        self.version = version      # Changes.version when the request came in


def _plain(status, text):
    body = f"<!doctype html><meta charset=utf-8><title>{status}</title><p>{html.escape(text)}</p>" \
           f"<p><a href=\"/\">Back to the console</a></p>"
    return status, {"Content-Type": "text/html; charset=utf-8"}, body.encode()


def _host_name(value):
    """The name in a Host header without its port, lower-cased ("[::1]:4000" -> "::1"); None if malformed."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        rest = value[end + 1:] if end > 0 else None
        if rest is None or (rest and not (rest.startswith(":") and rest[1:].isdigit())):
            return None
        return value[1:end]
    name, sep, port = value.partition(":")
    if sep and not port.isdigit():
        return None
    return name


def _minutes(query, default):
    try:
        return max(1, min(24 * 60, int(query.get("minutes", default))))
    except ValueError:
        return default


def _when(value):
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        value = datetime.fromtimestamp(value, tz=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _ago(epoch):
    seconds = max(0, time.time() - epoch)
    if seconds < 60:
        return f"{seconds:.0f} s ago"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def _pretty(value):
    return json.dumps(value, ensure_ascii=False, indent=1, default=str) if not isinstance(value, str) else value


def _aws_error(exc):
    response = getattr(exc, "response", None)
    if response:
        return response.get("Error", {}).get("Message") or str(exc)
    return str(exc)
