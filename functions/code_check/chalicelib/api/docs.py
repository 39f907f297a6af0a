"""The partner API's OpenAPI document and its Swagger UI (served offline through common.swagger)."""
from pathlib import Path

from common import swagger, web

SPEC_PATH = Path(__file__).resolve().parent / "openapi.yaml"


def spec(server_url):
    """The document with its server set to where the API is mounted ("/" or "/prod")."""
    return swagger.openapi(SPEC_PATH, server_url)


def page():
    # Relative URLs: the page works at /api/doc and behind a stage prefix.
    return swagger.page("code_check partner API", "openapi.json", "doc")


def asset(name):
    try:
        return swagger.asset(name)
    except swagger.AssetsMissing:
        raise web.unavailable("swagger-ui-bundle is not installed; the API itself works, see /api/openapi.json")
