"""Property-based tests of the served OpenAPI document against the running API: zero 5xx, answers as documented.

schemathesis' pytest loader does not work with pytest 9, so this drives its engine (as tests/mailbox does).
"""
import pytest

import schemathesis_support
from notifications_helpers import OPERATOR, PASSWORD, Api


@pytest.fixture
def api_schema(start_cloud, clean):
    # Only the API function runs: the mailings it generates are stored and scheduled, never sent.
    cloud = start_cloud(functions=["NotificationsApiFunction"])
    base = cloud.api_url("NotificationsApi")
    token = Api(base).post("/auth", {"username": OPERATOR, "password": PASSWORD}).json()["token"]
    # Schema-valid input the API still refuses by design: an unknown time zone or id, a taken phone, end
    # not after start, a mailing that started, wrong credentials at /auth (and, after many, its 429).
    accepted = ["2xx", "400", "401", "404", "409", "429"]
    return schemathesis_support.load(base + "/openapi.json", base, token, accepted)


def test_api_matches_its_openapi_document(api_schema):
    statuses, problems = schemathesis_support.run(api_schema)
    assert sum(statuses.values()) > 100
    assert problems == [], "\n".join(sorted(set(problems))[:60])
    assert not any(status is None or status >= 500 for status in statuses)
