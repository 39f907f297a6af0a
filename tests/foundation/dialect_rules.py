"""The machine-checkable rules of the products' one dialect (docs/conventions.md, issue 24), as functions that
return every offender as a line of text: tests/foundation/test_dialect.py runs them on the repository and on
planted offenders. Each takes what it checks as arguments (folders, a parsed template, loaded apps)."""
import ast
import re
from pathlib import Path

import chalice

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"
MAX_APP_LINES = 250
BASE_TEMPLATE = "common/base.html"

# Chalice decorators that wire a handler themselves (a queue, a rate, a bucket, a topic...): the template owns
# the wiring, so a handler it wires is an @app.lambda_function().
WIRING_DECORATORS = frozenset({
    "on_sqs_message", "schedule", "on_s3_event", "on_sns_message", "on_cw_event", "on_kinesis_record",
    "on_dynamodb_record", "on_ws_connect", "on_ws_disconnect", "on_ws_message",
})


def products(functions=FUNCTIONS):
    """The product names: folders of functions/ with an app.py."""
    return sorted(path.parent.name for path in Path(functions).glob("*/app.py"))


def python_files(product_dir):
    """app.py and every module under chalicelib/ of one product."""
    product_dir = Path(product_dir)
    return sorted([product_dir / "app.py", *(product_dir / "chalicelib").rglob("*.py")])


def _where(path, node=None):
    try:
        shown = Path(path).relative_to(ROOT)
    except ValueError:
        shown = Path(path)
    return f"{shown}:{node.lineno}" if node is not None else str(shown)


# ---- (a) routes <-> template Api events ------------------------------------------------------------------

def code_uri_product(properties):
    """The product a function's CodeUri names (functions/<product>/), or None."""
    match = re.fullmatch(r"functions/([^/]+)/?", str(properties.get("CodeUri") or ""))
    return match.group(1) if match else None


def product_functions(resources, product):
    """{logical id: properties} of the template's functions whose CodeUri is functions/<product>/."""
    return {name: resource.get("Properties") or {} for name, resource in resources.items()
            if resource.get("Type") == "AWS::Serverless::Function"
            and code_uri_product(resource.get("Properties") or {}) == product}


def unwired_routes(product, app, resources):
    """Routes of the app without their Api event (same Path and Method on the product's HTTP function), and Api
    events of the product's functions that no route answers."""
    routes = {(path, method.upper()) for path, methods in app.routes.items() for method in methods}
    events, problems = {}, []
    for function, properties in product_functions(resources, product).items():
        for event_name, event in (properties.get("Events") or {}).items():
            if event.get("Type") != "Api":
                continue
            event_properties = event.get("Properties") or {}
            if properties.get("Handler") != "app.app":
                problems.append(f"{product}: Api event {function}.{event_name} is on a function whose Handler is "
                                f"{properties.get('Handler')!r}, not the Chalice app (app.app)")
            key = (event_properties.get("Path"), str(event_properties.get("Method", "")).upper())
            events[key] = f"{function}.{event_name}"
    for path, method in sorted(routes - set(events)):
        problems.append(f"{product}: route {method} {path} has no Api event in template.yaml "
                        f"(add one with Path: {path}, Method: {method})")
    for path, method in sorted(set(events) - routes, key=str):
        problems.append(f"{product}: Api event {events[path, method]} ({method} {path}) has no route in app.py")
    return problems


# ---- (b) no decorator names a queue or a schedule; every Handler exists ----------------------------------

def wiring_decorators(paths):
    """Decorators such as @app.on_sqs_message(queue=...) / @app.schedule("rate(...)") in the given files."""
    problems = []
    for path in paths:
        for node in ast.walk(ast.parse(Path(path).read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if isinstance(target, ast.Attribute) and target.attr in WIRING_DECORATORS:
                    problems.append(f"{_where(path, decorator)}: @{ast.unparse(target)}(...) on {node.name} wires "
                                    f"it in code; make it @app.lambda_function() and let template.yaml wire it")
    return problems


def missing_handlers(product, module, resources):
    """Template Handlers `app.<name>` of the product's functions that app.py does not define as the Chalice app
    (app.app) or as an @app.lambda_function() of that very name; and event sources the app registers itself."""
    app = module.app
    problems = [f"{product}: the app registers a {type(source).__name__} ({source.name}) itself: the template "
                f"wires handlers" for source in app.event_sources]
    for function, properties in sorted(product_functions(resources, product).items()):
        handler = str(properties.get("Handler") or "")
        file_name, _, name = handler.partition(".")
        if file_name != "app" or not name:
            problems.append(f"{product}: {function} Handler {handler!r} is not app.<name>")
            continue
        found = getattr(module, name, None)
        if name == "app" and isinstance(found, chalice.Chalice):
            continue
        # @app.lambda_function() leaves its wrapper in the module and in app.handler_map under its name.
        registered = [f for f in app.pure_lambda_functions
                      if found is not None and app.handler_map.get(f.name) is found]
        if not registered:
            problems.append(f"{product}: {function} Handler app.{name}: app.py has no @app.lambda_function() "
                            f"named {name}")
        elif registered[0].name != name or registered[0].func.__name__ != name:
            problems.append(f"{product}: {function} Handler app.{name} is @app.lambda_function(name="
                            f"{registered[0].name!r}) on {registered[0].func.__name__}: name it after the Python "
                            f"function")
    return problems


# ---- (c) no product defines what common provides ---------------------------------------------------------

def _copies_in(tree):
    """(node, what it is, what to use instead) for each use in a module of something common provides."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" \
                and node.args and isinstance(node.args[0], ast.Call) \
                and isinstance(node.args[0].func, ast.Name) and node.args[0].func.id == "zip":
            yield node, "dict(zip(...)) row mapper", "common.rows.one / rows.all"
        elif isinstance(node, ast.Attribute):
            if node.attr == "SimpleCookie" or (node.attr == "cookies" and _name(node.value) == "http"):
                yield node, "http.cookies", "common.cookies"
            elif node.attr == "send_message_batch":
                yield node, "an SQS batch sender of its own", "common.queue.send_all"
            elif node.attr == "getLogger" and _name(node.value) == "logging":
                yield node, "logging.getLogger", "common.log.get_logger(__name__)"
            elif node.attr in ("json_errors", "html_errors"):
                yield node, f"web.{node.attr} on a route", "web.map_errors(app, ...) once at the end of app.py"
        elif _edits_sys_path(node):
            yield node, "sys.path edited", "the function's folder and the layer (tools live in tools/<product>/)"
        elif isinstance(node, ast.Name) and node.id in ("SimpleCookie", "json_errors", "html_errors"):
            use = "common.cookies" if node.id == "SimpleCookie" else "web.map_errors(app, ...) once per app"
            yield node, node.id, use
        elif isinstance(node, ast.Import) and any(alias.name == "http.cookies" for alias in node.names):
            yield node, "import http.cookies", "common.cookies"
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = {alias.name for alias in node.names}
            if node.module == "http.cookies":
                yield node, "from http.cookies import ...", "common.cookies"
            elif node.module == "logging" and "getLogger" in names:
                yield node, "from logging import getLogger", "common.log.get_logger(__name__)"
            elif node.module.startswith("aws_lambda_powertools") and "Logger" in names:
                yield node, "a Powertools Logger of its own", "common.log.get_logger(__name__)"
            elif node.module in ("common.web", "web") and names & {"json_errors", "html_errors"}:
                yield node, "json_errors/html_errors imported", "web.map_errors(app, ...) once per app"


def _name(node):
    return node.id if isinstance(node, ast.Name) else None


def _is_sys_path(node):
    return isinstance(node, ast.Attribute) and node.attr == "path" and _name(node.value) == "sys"


def _edits_sys_path(node):
    """sys.path.insert/append/extend(...), sys.path[...] = ..., sys.path = ... (reading it is fine)."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr in ("insert", "append", "extend") and _is_sys_path(node.func.value)
    if isinstance(node, (ast.Assign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return any(_is_sys_path(t) or (isinstance(t, ast.Subscript) and _is_sys_path(t.value)) for t in targets)
    return False


def own_copies(product_dirs):
    """Uses inside products of what common provides (cookies, rows, queue sends, logging, error mapping), and
    config.py files (settings live in chalicelib/settings.py)."""
    problems = []
    for product_dir in product_dirs:
        for path in sorted(Path(product_dir).rglob("config.py")):
            problems.append(f"{_where(path)}: settings live in chalicelib/settings.py (common.settings.Reader in "
                            f"@once def load()), not config.py")
        for path in sorted(Path(product_dir).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            seen = set()
            for node, what, use in _copies_in(tree):
                if (node.lineno, what) not in seen:
                    seen.add((node.lineno, what))
                    problems.append(f"{_where(path, node)}: {what}; use {use}")
    return problems


# ---- (d) app.py size -------------------------------------------------------------------------------------

def fat_apps(app_paths, limit=MAX_APP_LINES):
    """app.py files over the limit (their routes belong in chalicelib/routes/ blueprints)."""
    problems = []
    for path in app_paths:
        lines = len(Path(path).read_text(encoding="utf-8").splitlines())
        if lines > limit:
            problems.append(f"{_where(path)}: {lines} lines, over {limit}: move the routes into Chalice "
                            f"blueprints in chalicelib/routes/")
    return problems


# ---- (e) pages extend common/base.html -------------------------------------------------------------------

_EXTENDS = re.compile(r"""{%-?\s*extends\s+["']([^"']+)["']""")


def is_page(path):
    """An HTML template that is a page: not a partial (_name.html) nor an e-mail body (email*.html)."""
    path = Path(path)
    return path.suffix == ".html" and not path.name.startswith(("_", "email"))


def pages_off_base(template_dirs):
    """Page templates that do not extend common/base.html (directly or through a template of their folder)."""
    problems = []
    for folder in template_dirs:
        folder = Path(folder)
        for path in sorted(p for p in folder.rglob("*.html") if is_page(p)):
            chain, current = [], path
            while True:
                match = _EXTENDS.search(current.read_text(encoding="utf-8"))
                parent = match.group(1) if match else None
                if parent == BASE_TEMPLATE:
                    break
                if parent is None or not (folder / parent).is_file() or parent in chain:
                    reached = f" (through {' -> '.join(chain)})" if chain else ""
                    problems.append(f"{_where(path)}: does not extend {BASE_TEMPLATE}{reached}; a page is "
                                    f'{{% extends "{BASE_TEMPLATE}" %}} with blocks title, product, header, main')
                    break
                chain.append(parent)
                current = folder / parent
    return problems


def template_dirs(functions=FUNCTIONS):
    """Every templates/ folder of every product."""
    return sorted(path for path in Path(functions).glob("*/chalicelib/**/templates") if path.is_dir())
