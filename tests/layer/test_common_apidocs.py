"""common.apidocs: the Swagger UI page loads only its own relative assets; only known files are served."""
from common import apidocs


def test_page_points_at_relative_assets_and_spec_only():
    text = apidocs.page("Demo <API>", assets="docs/", spec_url="openapi.json")
    assert "Demo &lt;API&gt;" in text
    assert 'href="docs/swagger-ui.css"' in text and 'src="docs/swagger-ui-bundle.js"' in text
    assert 'url: "openapi.json"' in text
    assert "http://" not in text and "https://" not in text   # nothing from a CDN


def test_known_assets_are_served_with_their_type_and_others_are_not():
    text, content_type = apidocs.asset("swagger-ui-bundle.js")
    assert "SwaggerUIBundle" in text and content_type.startswith("application/javascript")
    assert apidocs.asset("../../etc/passwd") is None
    assert apidocs.asset("index.html") is None
