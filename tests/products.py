"""Loading a product's app.py in the test process, sharing its modules with the tests' imports.

Tests import product logic as `functions.<product>.chalicelib.<module>`. A product's app.py imports
`chalicelib` as a top-level package (Lambda puts the function's folder on the path), so load_app
executes it with `chalicelib` pointing at those very modules: the app and the tests see one copy of
every module (one settings cache, one set of module globals), and products never clash on the name.
"""
import functools
import importlib
import importlib.util
import pkgutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@functools.lru_cache(maxsize=None)
def load_app(product):
    """functions/<product>/app.py as a module named "<product>_app" (loaded once per session)."""
    package = importlib.import_module(f"functions.{product}.chalicelib")
    modules = [package] + [importlib.import_module(info.name)
                           for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
    aliases = {"chalicelib" + module.__name__[len(package.__name__):]: module for module in modules}
    saved = {name: sys.modules.pop(name) for name in list(sys.modules)
             if name == "chalicelib" or name.startswith("chalicelib.")}
    sys.modules.update(aliases)
    try:
        spec = importlib.util.spec_from_file_location(f"{product}_app", ROOT / "functions" / product / "app.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        for name in aliases:
            sys.modules.pop(name, None)
        sys.modules.update(saved)
    return module
