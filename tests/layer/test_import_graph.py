"""The import graph of the shared layer and of every product (app.py + chalicelib) has no cycles, and
products never import each other."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _modules(package_dir, name):
    """{module name: file} of a package directory, the package itself included."""
    found = {}
    for path in package_dir.rglob("*.py"):
        parts = list(path.relative_to(package_dir).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join([name] + parts)] = path
    return found


def _imports(module, path, known):
    """The modules of `known` that one module imports (absolute, relative and from-imports of submodules)."""
    is_package = path.name == "__init__.py"
    base = module.split(".") if is_package else module.split(".")[:-1]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            prefix = base[:len(base) - node.level + 1] if node.level else []
            origin = ".".join(prefix + ([node.module] if node.module else []))
            targets.add(origin)
            targets.update(f"{origin}.{alias.name}" for alias in node.names)
    return {t for t in targets if t in known and t != module}


def _cycle(graph):
    """One cycle as a list of modules, or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def _graph(modules):
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def test_the_common_layer_has_no_import_cycle():
    modules = _modules(ROOT / "layers" / "common" / "python" / "common", "common")
    assert len(modules) > 5
    assert _cycle(_graph(modules)) is None


def test_no_product_has_an_import_cycle_or_imports_another_product():
    products = sorted(p.parent for p in ROOT.glob("functions/*/app.py"))
    assert {p.name for p in products} >= {"mail_import", "broadcast", "mailbox"}
    for product in products:
        modules = _modules(product / "chalicelib", "chalicelib")
        modules["app"] = product / "app.py"
        graph = _graph(modules)
        assert _cycle(graph) is None, product.name
        assert graph["app"], product.name           # the graph is real: app.py imports its chalicelib
        for path in modules.values():
            text = path.read_text(encoding="utf-8")
            others = [p.name for p in products if p != product and f"functions.{p.name}" in text]
            assert not others, (path, others)


def test_the_cycle_finder_finds_cycles():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
