"""An OpenAPI document's Swagger UI served by the function itself, with no CDN (browsers may be offline).

The swagger-ui files come from the `swagger-ui-bundle` package, which a product using this pins in its
own requirements.txt (imported lazily, so products without API docs do not ship it).
"""
import functools
import html
from pathlib import Path

ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "application/javascript; charset=utf-8",
    "swagger-ui-standalone-preset.js": "application/javascript; charset=utf-8",
}


class AssetsMissing(Exception):
    """The swagger-ui-bundle package is not installed."""


def page(title, assets="docs/", spec_url="openapi.json"):
    """The Swagger UI page. URLs are relative so it works at /docs and behind a stage prefix (/prod/docs):
    `assets` is where asset() is served relative to the page, `spec_url` the JSON document."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{html.escape(title)}</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="{html.escape(assets)}swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{html.escape(assets)}swagger-ui-bundle.js"></script>
  <script src="{html.escape(assets)}swagger-ui-standalone-preset.js"></script>
  <script>
    window.onload = function () {{
      window.ui = SwaggerUIBundle({{
        url: "{html.escape(spec_url)}", dom_id: "#swagger-ui", deepLinking: true, validatorUrl: null,
        persistAuthorization: true, presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
        layout: "BaseLayout"
      }});
    }};
  </script>
</body>
</html>
"""


def asset(name):
    """(text, content type) of a swagger-ui file, or None if `name` is not one that is served."""
    if name not in ASSETS:
        return None
    return _read(name), ASSETS[name]


@functools.lru_cache(maxsize=len(ASSETS))
def _read(name):
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        raise AssetsMissing("swagger-ui-bundle is not installed") from None
    return (Path(swagger_ui_path) / name).read_text(encoding="utf-8")
