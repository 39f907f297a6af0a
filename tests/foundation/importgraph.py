"""What a function really imports: the modules reachable from its handler, and the third-party
distributions they need, attributed to the folder (function code or layer) whose file imports them."""
import ast
import importlib.metadata
import re
import sys
from pathlib import Path

RUNTIME_PROVIDED = {"boto3", "botocore"}  # the Lambda Python runtime ships these


def normalise(name):
    """A distribution name as pip compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned(requirements_file):
    """Distribution names pinned in a requirements file."""
    names = set()
    if Path(requirements_file).is_file():
        for raw in Path(requirements_file).read_text().splitlines():
            line = raw.split("#", 1)[0].strip()
            if line:
                names.add(normalise(re.split(r"[<>=!~\[; ]", line, 1)[0]))
    return names


def _imported_names(path, package):
    """Absolute module names a file imports (also inside functions), with `from x import y` as x and x.y."""
    tree = ast.parse(Path(path).read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1] if package else []
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module:
                yield module
            for alias in node.names:
                yield f"{module}.{alias.name}" if module else alias.name


def _find(name, roots):
    parts = name.split(".")
    for root in roots:
        base = Path(root).joinpath(*parts)
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return root, candidate
    return None, None


def third_party(handler_module, code_dir, layer_dirs):
    """{folder: set of distribution names} for what the handler's module graph imports from outside
    the standard library and the runtime; folder is code_dir or the layer whose file imports it."""
    roots = [Path(code_dir)] + [Path(d) for d in layer_dirs]
    dists_of = importlib.metadata.packages_distributions()
    needs = {root: set() for root in roots}
    seen, todo = set(), [handler_module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        root, path = _find(name, roots)
        if path is None:
            continue
        if "." in name:
            todo.append(name.rsplit(".", 1)[0])  # importing a.b runs a/__init__.py first
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for imported in _imported_names(path, package):
            top = imported.split(".")[0]
            if _find(top, roots)[1] is not None:
                todo.append(imported)
            elif top not in sys.stdlib_module_names and top not in RUNTIME_PROVIDED and top != "__future__":
                for dist in dists_of.get(top, [top]):
                    if normalise(dist) not in RUNTIME_PROVIDED:
                        needs[root].add(normalise(dist))
    return needs


def layer_imports(layer_dir):
    """Distribution names every module of a layer imports (a layer serves any function)."""
    modules = []
    for path in Path(layer_dir).rglob("*.py"):
        rel = path.relative_to(layer_dir).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        modules.append(".".join(parts))
    needs = set()
    for module in modules:
        needs |= third_party(module, layer_dir, [])[Path(layer_dir)]
    return needs
