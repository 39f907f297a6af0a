"""Driving a product's app.py in this process with API Gateway proxy events, and fuzzing every route it has.

`Product` runs app.py (tests/products.py's load_app) in the environment the local cloud gives the product's
HTTP function (its queues, buckets and databases are real: moto and the test databases), calling
`app(event, context)` with the event the local gateway would build (localcloud.events.http_event_v1).

`fuzz_routes` takes the route list from the app itself (app.routes), so a route added later is fuzzed
without touching a test: each route and method first gets a corpus of hostile values in every place at once
(`corpus`), then hypothesis generates path segments, query strings,
headers and bodies (JSON values of any shape and depth, forms, multipart, raw bytes, NUL, lone
surrogates, odd charsets), mixed with the product's own credentials and ids so that the requests get
past sign-in, and collects every answer of 500 or more.
"""
import contextlib
import importlib
import json
import os
import pkgutil
import string
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlencode

from hypothesis import HealthCheck, Phase, given, settings, strategies as st

from localcloud.events import http_event_v1
from products import load_app

# Runtime variables of the worker process, not the function's configuration.
NOT_APPLIED = ("LOCAL_SYS_PATH", "_HANDLER", "PYTHONUNBUFFERED", "LAMBDA_TASK_ROOT", "TZ")

# Query parameter names any product reads (a route that reads none gets them too: they must be ignored).
QUERY_NAMES = ("limit", "after", "before", "offset", "page", "q", "from", "to", "version", "status", "token",
               "images", "attachments", "cursor", "unread", "id")
FIELD_NAMES = ("username", "password", "email", "name", "csrf", "text", "numbers", "phone", "timezone", "tag",
               "tags", "operator_codes", "start", "end", "zone", "window_start", "window_end", "minutes", "provider",
               "host", "port", "ssl", "login", "folders", "files", "content", "read", "to", "subject", "body",
               "filter", "window", "data", "message_id", "status")


class Context:
    """Enough of the Lambda context for a handler."""
    function_name = "fuzz"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:fuzz"
    log_group_name = "/aws/lambda/fuzz"
    log_stream_name = "local"

    def __init__(self):
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self):
        return 30_000


@dataclass
class Answer:
    status: int
    headers: dict
    body: str

    def json(self):
        return json.loads(self.body)


def function_environment(start_cloud, function_id):
    """The environment the local cloud gives function_id (its resources created in moto), nothing started."""
    cloud = start_cloud(functions=[function_id], serve=False)
    return {k: v for k, v in cloud.runtime.pools[function_id].env.items() if k not in NOT_APPLIED}


def forget_settings(product):
    """Clear every cached loader of the product's modules (settings are read once per cold start)."""
    package = importlib.import_module(f"functions.{product}.chalicelib")
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        module = importlib.import_module(info.name)
        for value in list(vars(module).values()):
            if callable(getattr(value, "cache_clear", None)) and getattr(value, "__module__", None) == info.name:
                value.cache_clear()


@contextlib.contextmanager
def product(name, environment):
    """Product(name) with os.environ set to the function's environment while the block runs (then restored)."""
    saved = dict(os.environ)
    os.environ.update(environment)
    forget_settings(name)
    try:
        yield Product(name)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        forget_settings(name)


class Product:
    """A product's app.py called in this process with API Gateway (REST, payload 1.0) events."""

    def __init__(self, name):
        self.name = name
        self.app = load_app(name).app

    def routes(self):
        """[(resource path, method, content types)] of every route the app declares."""
        return sorted((path, method, tuple(entry.content_types))
                      for path, methods in self.app.routes.items() for method, entry in methods.items())

    def call(self, method, resource, params=None, query="", headers=None, body=b""):
        """The answer to one request to resource (e.g. "/clients/{id}") with the given path parameters."""
        params = params or {}
        path = resource
        for key, value in params.items():
            path = path.replace("{" + key + "}", value)
        if isinstance(query, dict):
            query = urlencode(query, encoding="utf-8", errors="surrogatepass")
        if isinstance(body, str):
            body = body.encode("utf-8", "surrogatepass")
        event = http_event_v1(method, path, query, list((headers or {}).items()), body, resource, params,
                              binary_media_types=tuple(self.app.api.binary_types))
        started = time.monotonic()
        result = self.app(event, Context())
        self.last_seconds = time.monotonic() - started
        raw = result.get("body") or ""
        if result.get("isBase64Encoded"):
            raw = "<binary>"
        headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
        for k, values in (result.get("multiValueHeaders") or {}).items():
            headers[k.lower()] = values[-1] if values else ""
        return Answer(result["statusCode"], headers, raw)


# ---- strategies ------------------------------------------------------------------------------------------

NASTY_TEXT = ["", " ", "0", "-1", "1", "+1", "2", "1e3", "1.5", "²", "١٢", "9" * 20, str(2 ** 63), str(2 ** 63 - 1),
              "a\x00b", "\x00", "\ud800", "a\udfffb", "null", "true", "[]", "{}", "%00", "../..", "..", "x" * 300,
              "9999-12-31", "0001-01-01", "2026-02-30", "2026-01-31", "-0", "\n", "\r\n", "Я", "🙂", "\u202e",
              "<script>", "' OR 1=1 --", "off", "on", "a.py", "a.svg"]

texts = st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=40),
                  st.text(alphabet=st.characters(exclude_categories=()), max_size=20),   # surrogates too
                  st.integers(-2 ** 70, 2 ** 70).map(str))
# URL-decoded by the gateway (errors="replace"): no lone surrogates in paths and query strings.
url_texts = texts.map(lambda t: t.encode("utf-8", "replace").decode("utf-8"))

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70),
                         st.floats(allow_nan=False, allow_infinity=False), texts)
json_values = st.recursive(json_scalars, lambda children: st.one_of(
    st.lists(children, max_size=4),
    st.dictionaries(st.one_of(st.sampled_from(FIELD_NAMES), texts), children, max_size=4)), max_leaves=12)


def _deep(levels):
    return '{"a": ' + "[" * levels + "]" * levels + "}"


def _json_text(value):
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


json_bodies = st.one_of(
    st.dictionaries(st.sampled_from(FIELD_NAMES), json_values, max_size=6).map(_json_text),
    json_values.map(_json_text),
    st.sampled_from(["[" * 60000, _deep(40), _deep(5000), "{", "", "null", '{"a": "\\ud800"}',
                     '{"a": "\\u0000"}', '{"a": 1e999}', '{"a": 1, "a": 2}']).map(str.encode),
    st.binary(max_size=64))

form_pairs = st.lists(st.tuples(st.one_of(st.sampled_from(FIELD_NAMES), url_texts), url_texts), max_size=8)
form_bodies = st.one_of(
    form_pairs.map(lambda pairs: urlencode(pairs, encoding="utf-8").encode()),
    st.sampled_from([b"a=%FF", b"a=%ED%A0%80", b"a=%00", b"%", b"&&&", b"=", b"a=1&" * 200, b"\xff\xfe"]),
    st.binary(max_size=64))


@st.composite
def multipart_bodies(draw):
    boundary = "fuzzBoundary"
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.one_of(st.sampled_from(FIELD_NAMES), st.text(string.ascii_letters, max_size=8)))
        charset = draw(st.sampled_from(["", "; charset=utf-8", "; charset=nope", "; charset=koi8-r", "; charset="]))
        filename = draw(st.one_of(st.none(), st.sampled_from(["a.py", "", "a\x00.py", "..", "a.txt", "я.py"]),
                                  st.text(max_size=20).map(lambda t: t.replace('"', ""))))
        disposition = f'form-data; name="{name}"' + ("" if filename is None else f'; filename="{filename}"')
        data = draw(st.one_of(st.binary(max_size=40), st.sampled_from([b"x = 1\n", b"\xff\xfe", b"a\x00b"])))
        parts.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
                     f"Content-Type: text/plain{charset}\r\n\r\n".encode("utf-8", "surrogateescape") + data + b"\r\n")
    tail = draw(st.sampled_from([f"--{boundary}--\r\n".encode(), b"", b"--nope--"]))
    return f"multipart/form-data; boundary={boundary}", b"".join(parts) + tail


CONTENT_TYPES = ["application/json", "application/x-www-form-urlencoded", "multipart/form-data",
                 "application/json; charset=nope", "application/x-www-form-urlencoded; charset=nope",
                 "text/plain", ""]


@st.composite
def requests_for(draw, route, known):
    """(params, query, headers, body) for one route; `known` gives the product's credentials and ids:
    {"headers": [dicts of headers that sign in], "ids": {path parameter: [values]},
     "fields": {form field: [values]} (added to forms half of the time), "query": {name: [values]} (likewise)}."""
    path, method, content_types = route
    params = {}
    for name in [part[1:-1] for part in path.split("/") if part.startswith("{")]:
        choices = known.get("ids", {}).get(name, [])
        # Two times in three a value that exists, so the request reaches what the route does with it.
        params[name] = draw(st.one_of(st.sampled_from(choices), st.sampled_from(choices), url_texts)
                            if choices else url_texts)
    query = draw(st.dictionaries(st.one_of(st.sampled_from(QUERY_NAMES), url_texts), url_texts, max_size=4))
    for name, values in known.get("query", {}).items():     # e.g. a webhook's secret, half of the time
        if draw(st.booleans()):
            query[name] = draw(st.sampled_from(values))
    # Mostly signed in (hypothesis leans towards a list's first items).
    headers = dict(draw(st.sampled_from(list(known.get("headers", [])) * 2 + [{}])))
    headers["Accept-Language"] = draw(st.sampled_from(["en", "ru", "", "*", "xx;q=nope"]))
    body = b""
    if method in ("POST", "PUT", "PATCH", "DELETE"):
        kind = draw(st.sampled_from(list(content_types) + CONTENT_TYPES))
        base = kind.split(";")[0]
        # Often the form carries the fields a page would (its CSRF token), so the request gets past the check.
        fields = {name: draw(st.sampled_from(values)) for name, values in known.get("fields", {}).items()
                  if draw(st.booleans())}
        if base == "multipart/form-data":
            kind, body = draw(multipart_bodies())
            if fields and body.startswith(b"--fuzzBoundary"):
                body = b"".join(f'--fuzzBoundary\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                                f"{value}\r\n".encode() for name, value in fields.items()) + body
        elif base == "application/json":
            body = draw(json_bodies)
        elif base == "application/x-www-form-urlencoded":
            body = draw(form_bodies)
            if fields:
                body = urlencode(fields).encode() + (b"&" + body if body else b"")
        else:
            body = draw(st.binary(max_size=64))
        if kind:
            headers["Content-Type"] = kind
    return params, query, headers, body


# The corpus every route gets before the generated requests: each hostile value in every place at once (all
# path parameters, all query parameters, every field of a JSON body or a form), signed in, with real ids.
HOSTILE = ["-1", "0", "9" * 20, str(2 ** 63), "²", "١٢", "a\x00b", "9999-12-31", "0001-01-01", "", "1e3", " 1"]
HOSTILE_JSON = HOSTILE + ["\ud800", -1, 0, 2 ** 70, 1.5, True, None, [], {}, ["a\x00"], {"a": "\udfff"},
                          [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]
RAW_BODIES = [("[" * 60000).encode(), _deep(5000).encode(), b"{", b"null", b"\xff\xfe", b'{"a": "\\ud800"}']


def corpus(route, known):
    """[(params, query, headers, body)]: the hostile values of HOSTILE / HOSTILE_JSON for one route."""
    path, method, content_types = route
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    ids = {name: (known.get("ids", {}).get(name) or ["1"])[0] for name in names}
    signed_in = {}                  # every way of signing in at once: pages read the cookie, the API its header
    for headers in known.get("headers", []):
        signed_in.update(headers)
    extra_query = {name: values[0] for name, values in known.get("query", {}).items()}
    fields = {name: values[0] for name, values in known.get("fields", {}).items()}
    # Each path parameter hostile in turn, the others real (so that the request reaches the one under test).
    requests = [(dict(ids, **{name: value}), extra_query, signed_in, b"") for name in names for value in HOSTILE]
    for value in HOSTILE:
        query = {name: value for name in QUERY_NAMES if name != "q"}
        requests += [(ids, dict(extra_query, **query), signed_in, b""),
                     (ids, dict(extra_query, **query, q="a"), signed_in, b"")]
    if method in ("POST", "PUT", "PATCH", "DELETE"):
        declared = [kind for kind in content_types if kind.startswith(("application/json", "application/x-www"))]
        for kind in declared or ["application/json"]:
            headers = dict(signed_in, **{"Content-Type": kind})
            if kind.startswith("application/json"):
                bodies = [_json_text({name: value for name in FIELD_NAMES}) for value in HOSTILE_JSON] + RAW_BODIES
            else:
                bodies = [urlencode(dict({name: value for name in FIELD_NAMES}, **fields), encoding="utf-8",
                                    errors="surrogatepass").encode() for value in HOSTILE + ["\ud800"]]
            requests += [(ids, extra_query, headers, body) for body in bodies]
    return requests


def fuzz_routes(app, known, max_examples):
    """({"METHOD path": [problem, ...]}, requests per route, answers by status) for every route of the app; a
    problem is an answer of 500 or more or an exception out of the app. Each route gets the corpus, then
    max_examples generated requests (derandomized: the same ones every run). `known` is the dict requests_for
    takes, or a function returning it, called before each route (a route that signs out or deletes must not
    leave the next ones without a session or an id)."""
    problems, counts, statuses = {}, {}, Counter()
    refresh = known if callable(known) else lambda: known
    for route in app.routes():
        path, method, _types = route
        known = refresh()
        found = []

        def one(request):
            params, query, headers, body = request
            counts[f"{method} {path}"] = counts.get(f"{method} {path}", 0) + 1
            try:
                answer = app.call(method, path, params, query, headers, body)
            except Exception as exc:  # noqa: BLE001 - an exception out of the app is the finding
                found.append(f"{type(exc).__name__}: {exc} <- {params} {query} {body[:120]!r}")
                return
            statuses[answer.status] += 1
            if answer.status >= 500:
                found.append(f"{answer.status} {answer.body[:200]} <- {params} {query} {headers} {body[:200]!r}")

        for request in corpus(route, known):
            one(request)

        @settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
                  phases=(Phase.explicit, Phase.generate), suppress_health_check=list(HealthCheck))
        @given(requests_for(route, known))
        def check(request):
            one(request)
        check()
        if found:
            problems[f"{method} {path}"] = found[:5]
    print(f"fuzzed {len(counts)} routes with {sum(counts.values())} requests; answers by status: "
          f"{dict(sorted(statuses.items()))}")
    return problems, counts, statuses
