"""Property-based tests of the partner API against its served OpenAPI document: zero 5xx, answers as documented."""
import pytest

import schemathesis_support


@pytest.fixture
def api_schema(base_url, browser, api_token):
    me = browser()
    token = api_token(me)
    # A file of this user, so that operations on /api/files/{file_id} also reach existing data.
    me.upload(("fuzz.py", b"import os\n"))
    accepted = ["2xx", "304", "401", "404", "409", "413", "422"]
    # Schema-valid ids of files that are not the caller's are 404 by design; a deleted file cannot be
    # replaced (409); schema-valid bytes may still be refused as Python source (422).
    return schemathesis_support.load(base_url + "/api/openapi.json", base_url, token, accepted)


def test_partner_api_matches_its_openapi_document(api_schema):
    """Every phase of a `schemathesis run` with all default checks."""
    statuses, problems = schemathesis_support.run(api_schema)
    assert sum(statuses.values()) > 100
    assert not any(status is not None and status >= 500 for status in statuses)
    assert problems == [], "\n".join(problems[:40])
