"""The API's OpenAPI document and a Swagger UI page whose assets are served by the function itself.

Browsers using the docs may have no internet, so nothing is loaded from a CDN: the swagger-ui
files come from the `swagger-ui-bundle` package.
"""
import copy
import functools
from pathlib import Path

import yaml

SPEC_PATH = Path(__file__).resolve().parent / "openapi.yaml"
# Only these files are served; anything else under /api/doc/ is a 404.
ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "application/javascript; charset=utf-8",
    "swagger-ui-standalone-preset.js": "application/javascript; charset=utf-8",
}

# Relative URLs so that the page works at /api/doc and behind a stage prefix (/prod/api/doc).
PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Mailbox API</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="doc/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="doc/swagger-ui-bundle.js"></script>
  <script src="doc/swagger-ui-standalone-preset.js"></script>
  <script>
    window.onload = function () {
      window.ui = SwaggerUIBundle({
        url: "openapi.json",
        dom_id: "#swagger-ui",
        deepLinking: true,
        validatorUrl: null,
        persistAuthorization: true,
        presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
        layout: "BaseLayout"
      });
    };
  </script>
</body>
</html>
"""


class AssetsMissing(Exception):
    """The swagger-ui-bundle package is not installed."""


@functools.lru_cache(maxsize=1)
def _spec():
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


def spec(base_url="/"):
    """The OpenAPI document as a dict, its server set to base_url (where this API is mounted)."""
    document = copy.deepcopy(_spec())
    document["servers"] = [{"url": base_url or "/"}]
    return document


def asset(name):
    """(text, content type) of a swagger-ui file, or None if name is not one we serve."""
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
