"""Property-based tests of the served OpenAPI document against the running API: no 5xx, responses as documented."""
import uuid

import pytest

import schemathesis_support
from functions.mailbox.chalicelib import mailboxes

# The example recipient of NewLetter in openapi.yaml: it must exist so the examples phase sends for real.
EXAMPLE_RECIPIENTS = ["bob@example.com"]


@pytest.fixture
def api_schema(api_url, tx):
    with tx() as cur:
        for address in EXAMPLE_RECIPIENTS:
            try:
                mailboxes.create(cur, address)
            except mailboxes.MailboxExists:
                pass
        _, key = mailboxes.create(cur, f"fuzz.{uuid.uuid4().hex[:10]}@test.example")
    accepted = ["2xx", "401", "404", "413", "422"]  # 422: schema-valid letters to addresses nobody has
    # A cursor is opaque: any string matches its schema, only ones the API issued are valid.
    operations = [{"include-operation-id": "listFolder",
                   "checks": {"positive_data_acceptance": {"expected-statuses": accepted + ["400"]}}}]
    return schemathesis_support.load(api_url + "/api/openapi.json", api_url, key, accepted, operations)


def test_api_matches_its_openapi_document(api_schema):
    """Every phase of a `schemathesis run` (examples, coverage, fuzzing, stateful) with all default checks."""
    statuses, problems = schemathesis_support.run(api_schema)
    assert sum(statuses.values()) > 100
    assert problems == [], "\n".join(problems)
