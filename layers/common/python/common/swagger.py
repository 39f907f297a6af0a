"""Swagger UI served by the function itself (no CDN: readers of the docs may be offline).

The files come from the `swagger-ui-bundle` package, which a product that serves docs pins in its own
requirements.txt; it is imported only when an asset is asked for.
"""
import copy
import functools
import html
from pathlib import Path

ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "application/javascript; charset=utf-8",
    "swagger-ui-standalone-preset.js": "application/javascript; charset=utf-8",
}
# The page's own script is in a file too, so the page works under a CSP without inline scripts.
INIT_SCRIPT = """window.onload = function () {
  var spec = document.getElementById("swagger-ui").getAttribute("data-spec");
  window.ui = SwaggerUIBundle({url: spec, dom_id: "#swagger-ui", deepLinking: true, validatorUrl: null,
    persistAuthorization: true, presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "BaseLayout"});
};
"""
INIT_NAME = "swagger-init.js"


class AssetsMissing(Exception):
    """The swagger-ui-bundle package is not installed."""


def page(title, spec_url, assets_url):
    """The Swagger UI page: assets_url is where asset(name) is served ("doc" relative to /api/)."""
    title, spec_url, assets_url = html.escape(title), html.escape(spec_url), html.escape(assets_url.rstrip("/"))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title}</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="{assets_url}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui" data-spec="{spec_url}"></div>
  <script src="{assets_url}/swagger-ui-bundle.js"></script>
  <script src="{assets_url}/swagger-ui-standalone-preset.js"></script>
  <script src="{assets_url}/{INIT_NAME}"></script>
</body>
</html>
"""


def asset(name):
    """(text, content type) of a Swagger UI file, or None if name is not one we serve."""
    if name == INIT_NAME:
        return INIT_SCRIPT, "application/javascript; charset=utf-8"
    if name not in ASSETS:
        return None
    return _read_asset(name), ASSETS[name]


@functools.lru_cache(maxsize=len(ASSETS))
def _read_asset(name):
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        raise AssetsMissing("swagger-ui-bundle is not installed") from None
    return (Path(swagger_ui_path) / name).read_text(encoding="utf-8")


def openapi(path, base_url="/"):
    """An OpenAPI document kept as YAML beside a product's code, as a dict whose server is base_url (where
    the API is mounted: "/" or "/prod/" behind a stage prefix)."""
    document = copy.deepcopy(_load_yaml(str(path)))
    document["servers"] = [{"url": base_url or "/"}]
    return document


@functools.lru_cache(maxsize=8)
def _load_yaml(path):
    import yaml
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
