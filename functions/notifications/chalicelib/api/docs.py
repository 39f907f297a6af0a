"""The API's OpenAPI document (openapi.yaml beside this file), its server set to where it is served."""
from pathlib import Path

from common import swagger

SPEC_PATH = Path(__file__).resolve().parent / "openapi.yaml"


def spec(base_url="/"):
    """The OpenAPI document as a dict, its server set to base_url (where this API is mounted)."""
    return swagger.openapi(SPEC_PATH, base_url)
