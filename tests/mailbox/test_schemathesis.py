"""Property-based tests of the served OpenAPI document against the running API: no 5xx, responses as documented."""
import uuid
from collections import Counter

import pytest
import schemathesis
from schemathesis.engine import events, from_schema

from functions.mailbox.chalicelib import mailboxes

# The example recipient of NewLetter in openapi.yaml: it must exist so the examples phase sends for real.
EXAMPLE_RECIPIENTS = ["bob@example.com"]
MAX_EXAMPLES = 25


@pytest.fixture
def api_schema(api_url, tx):
    with tx() as cur:
        for address in EXAMPLE_RECIPIENTS:
            try:
                mailboxes.create(cur, address)
            except mailboxes.MailboxExists:
                pass
        _, key = mailboxes.create(cur, f"fuzz.{uuid.uuid4().hex[:10]}@test.example")
    accepted = ["2xx", "401", "404", "413", "422"]
    config = schemathesis.Config.from_dict({
        "base-url": api_url,
        "headers": {"Authorization": f"Bearer {key}"},
        "generation": {"max-examples": MAX_EXAMPLES},
        "phases": {"coverage": {
            # The local gateway (http.server) answers 501 to methods it has no handler for; API Gateway
            # answers 403. Neither reaches the function, so those two methods are left out.
            "unexpected-methods": ["get", "put", "post", "delete", "options", "patch"]}},
        "checks": {
            # A method the template does not route never reaches the function: the gateway answers
            # 403 "Missing Authentication Token" as API Gateway does, not 405.
            "unsupported_method": {"enabled": False},
            # Schema-valid letters to addresses nobody has are refused with 422 by design.
            "positive_data_acceptance": {"expected-statuses": accepted},
        },
        "operations": [{
            # A cursor is opaque: any string matches its schema, only ones the API issued are valid.
            "include-operation-id": "listFolder",
            "checks": {"positive_data_acceptance": {"expected-statuses": accepted + ["400"]}},
        }],
    })
    return schemathesis.openapi.from_url(api_url + "/api/openapi.json", config=config)


def test_api_matches_its_openapi_document(api_schema):
    """Every phase of a `schemathesis run` (examples, coverage, fuzzing, stateful) with all default checks.

    schemathesis' pytest loader (from_fixture) does not work with pytest 9, so this drives its engine.
    """
    statuses, problems = Counter(), []
    for event in from_schema(api_schema).execute():
        if isinstance(event, events.ScenarioFinished):
            for case_id, interaction in event.recorder.interactions.items():
                status = interaction.response.status_code if interaction.response else None
                statuses[status] += 1
                if status is None or status >= 500:
                    problems.append(f"{interaction.request.method} {interaction.request.uri} -> {status}")
                for check in event.recorder.checks.get(case_id, []):
                    if check.failure_info is not None:
                        problems.append(f"{event.recorder.label}: {check.name}: {check.failure_info.failure.title} "
                                        f"({interaction.request.method} {interaction.request.uri} -> {status})")
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            problems.append(f"error: {getattr(event, 'label', '')} {getattr(event, 'value', None) or event.exception}")
        elif isinstance(event, events.EngineFinished):
            problems += [f"{failure.operation}: {failure.title}: {failure.message}" for failure in event.failures]
    print("responses by status:", dict(statuses))
    assert sum(statuses.values()) > 100
    assert problems == [], "\n".join(problems)
