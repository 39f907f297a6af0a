"""No input makes a 5xx: every route of the site (app.routes, so a new one is included) fuzzed with hypothesis in
process (forms of any fields, odd charsets, NUL, lone surrogates, page numbers, JSON of any shape and depth on
the webhook) signed in or not, with the form's CSRF token and the webhook's secret half of the time."""
import pytest

import fuzz_support
from broadcast_helpers import CSRF_FIELD, PASSWORD, SECRET, USER, basic

MAX_EXAMPLES = 50


@pytest.fixture(scope="module")
def environment(start_cloud, emulator_server):
    web = start_cloud(functions=["BroadcastWebFunction"], serve=False,
                      parameters={"BroadcastUser": USER, "BroadcastPassword": PASSWORD,
                                  "BroadcastWebhookSecret": SECRET, "ChatAppBaseUrl": emulator_server.url})
    return {k: v for k, v in web.runtime.pools["BroadcastWebFunction"].env.items()
            if k not in fuzz_support.NOT_APPLIED}


@pytest.fixture
def broadcast(environment, emulator):
    with fuzz_support.product("broadcast", environment) as app:
        yield app


def test_no_route_answers_5xx_to_any_input(broadcast, sql):
    signed_in = {"Authorization": basic()}
    page = broadcast.call("GET", "/", headers=signed_in)
    csrf = CSRF_FIELD.findall(page.body)[0]
    posted = broadcast.call("POST", "/broadcasts", headers=dict(signed_in, **{
        "Content-Type": "application/x-www-form-urlencoded"}), body=f"csrf={csrf}&text=Hi&numbers=%2B79991234567")
    assert posted.status == 303, posted.body
    broadcast_id = posted.headers["location"].rsplit("/", 1)[-1]
    known = {"headers": [signed_in], "ids": {"broadcast_id": [broadcast_id]},
             "fields": {"csrf": [csrf], "numbers": ["+79991234567", "+7999123456\n+7 999 000-00-00"]},
             "query": {"secret": [SECRET], "page": ["1", "2"]}}
    problems, counts, statuses = fuzz_support.fuzz_routes(broadcast, known, MAX_EXAMPLES)
    assert len(counts) == len(broadcast.routes()) and sum(counts.values()) >= MAX_EXAMPLES * len(counts)
    assert statuses[200] > 30 and statuses[400] > 20          # past sign-in, and into the checks
    assert problems == {}, "\n".join(f"{route}: {found}" for route, found in problems.items())
    sql("DELETE FROM login_failures")
