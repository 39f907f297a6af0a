"""common.swagger: the page points at local assets only, and only the known assets are served."""
from common import swagger


def test_page_loads_only_local_assets_and_escapes_values():
    text = swagger.page('API "x" <docs>', "openapi.json", "doc/")
    assert "http://" not in text and "https://" not in text
    assert 'src="doc/swagger-ui-bundle.js"' in text and 'data-spec="openapi.json"' in text
    assert "&lt;docs&gt;" in text and "<docs>" not in text


def test_assets_are_served_from_the_package_and_nothing_else():
    css, content_type = swagger.asset("swagger-ui.css")
    assert content_type.startswith("text/css") and ".swagger-ui" in css
    script, _ = swagger.asset("swagger-ui-bundle.js")
    assert "SwaggerUIBundle" in script
    assert "SwaggerUIBundle(" in swagger.asset(swagger.INIT_NAME)[0]
    assert swagger.asset("../../etc/passwd") is None
    assert swagger.asset("index.html") is None
