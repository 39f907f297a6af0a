"""Drives schemathesis against a served OpenAPI document (its pytest loader does not work with pytest 9):
every phase of a `schemathesis run` with all default checks, the problems collected as text."""
from collections import Counter

import schemathesis
from schemathesis.engine import events, from_schema

MAX_EXAMPLES = 25


def load(spec_url, base_url, token, accepted, operations=None, max_examples=MAX_EXAMPLES):
    """The schema with the platform's settings; `accepted`: statuses a schema-valid request may get by design."""
    config = {
        "base-url": base_url,
        "headers": {"Authorization": f"Bearer {token}"},
        "generation": {"max-examples": max_examples},
        "phases": {"coverage": {
            # The local gateway (http.server) answers 501 to methods it has no handler for; API Gateway
            # answers 403. Neither reaches the function, so those two methods are left out.
            "unexpected-methods": ["get", "put", "post", "delete", "options", "patch"]}},
        "checks": {
            # A method the template does not route never reaches the function: the gateway answers
            # 403 "Missing Authentication Token" as API Gateway does, not 405.
            "unsupported_method": {"enabled": False},
            "positive_data_acceptance": {"expected-statuses": accepted},
        },
    }
    if operations:
        config["operations"] = operations
    return schemathesis.openapi.from_url(spec_url, config=schemathesis.Config.from_dict(config))


def run(schema):
    """(responses counted by status, problems as text): a 5xx, a failed check or an engine error each."""
    statuses, problems = Counter(), []
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            for case_id, interaction in event.recorder.interactions.items():
                status = interaction.response.status_code if interaction.response else None
                statuses[status] += 1
                if status is None or status >= 500:
                    problems.append(f"{interaction.request.method} {interaction.request.uri} -> {status}")
                for check in event.recorder.checks.get(case_id, []):
                    if check.failure_info is not None:
                        problems.append(f"{event.recorder.label}: {check.name}: {check.failure_info.failure.title} "
                                        f"({interaction.request.method} {interaction.request.uri} -> {status}) "
                                        f"{(interaction.request.body or b'')[:300]!r}")
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            problems.append(f"error: {getattr(event, 'label', '')} {getattr(event, 'value', None) or event.exception}")
        elif isinstance(event, events.EngineFinished):
            problems += [f"{failure.operation}: {failure.title}: {failure.message}" for failure in event.failures]
    print("responses by status:", dict(statuses))
    return statuses, problems
