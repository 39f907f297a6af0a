"""The API's OpenAPI document (its Swagger UI is common.swagger's, served offline by the function)."""
import copy
import functools
from pathlib import Path

import yaml

SPEC_PATH = Path(__file__).resolve().parent / "openapi.yaml"


@functools.lru_cache(maxsize=1)
def _spec():
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


def spec(base_url="/"):
    """The OpenAPI document as a dict, its server set to base_url (where this API is mounted)."""
    document = copy.deepcopy(_spec())
    document["servers"] = [{"url": base_url or "/"}]
    return document
