"""No input makes a 5xx: every route of the app (app.routes, so a new one is included) fuzzed with hypothesis in
process (JSON of any shape and depth, forms, odd charsets, NUL, lone surrogates, huge numbers) with and without
the operator's token and cookie; and the inputs once seen to give a 500, each a 4xx naming the field."""
import pytest

import fuzz_support
from emulators.oidc_provider import OidcProviderEmulator
from notifications_helpers import OPERATOR, PASSWORD

MAX_EXAMPLES = 25


@pytest.fixture(scope="module")
def identity_provider():
    """The OpenID provider the sign-in routes reach (without one, /admin/oidc/login is rightly a 503)."""
    provider = OidcProviderEmulator().start()
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def environment(start_cloud, identity_provider):
    environment = fuzz_support.function_environment(start_cloud, "NotificationsApiFunction")
    return dict(environment, NOTIFICATIONS_OIDC_ISSUER=identity_provider.url)


@pytest.fixture
def notifications(environment, clean):
    with fuzz_support.product("notifications", environment) as app:
        yield app


def sign_in(app):
    answer = app.call("POST", "/auth", headers={"Content-Type": "application/json"},
                      body=f'{{"username": "{OPERATOR}", "password": "{PASSWORD}"}}')
    assert answer.status == 200, answer.body
    return answer.json()["token"]


@pytest.mark.parametrize("name, body, field", [
    ("sixty thousand brackets", "[" * 60000, "body"),
    ("lone surrogate in tag", '{"phone": "79991234567", "timezone": "UTC", "tag": "a\\ud800"}', "tag"),
])
def test_inputs_once_a_500_are_a_400_naming_the_field(notifications, name, body, field):
    path = "/auth" if "brackets" in name else "/clients"
    token = sign_in(notifications)
    answer = notifications.call("POST", path, headers={"Content-Type": "application/json",
                                                       "Authorization": f"Bearer {token}"}, body=body)
    assert (answer.status, answer.json().get("field")) == (400, field), answer.body


def test_no_route_answers_5xx_to_any_input(notifications):
    tokens = [sign_in(notifications)]

    def known():
        """A working token, a client and a mailing before each route (one may have signed out or deleted them);
        signing in again (argon2) only when the token stopped working."""
        if notifications.call("GET", "/stats", headers={"Authorization": f"Bearer {tokens[-1]}"}).status == 401:
            tokens.append(sign_in(notifications))
        token = tokens[-1]
        bearer = {"Authorization": f"Bearer {token}"}
        sent = dict(bearer, **{"Content-Type": "application/json"})
        created = notifications.call("POST", "/clients", headers=sent,
                                     body='{"phone": "79991234567", "timezone": "UTC", "tag": "vip"}')
        if created.status == 409:       # the phone is taken: the client of an earlier route is still there
            created = notifications.call("GET", "/clients", headers=bearer)
            client_id = created.json()["items"][0]["id"]
        else:
            client_id = created.json()["id"]
        mailing = notifications.call("POST", "/mailings", headers=sent,
                                     body='{"text": "hi", "start": "2030-01-01T00:00:00+00:00", '
                                          '"end": "2030-01-02T00:00:00+00:00", "filter": {"tags": ["vip"]}}')
        assert created.status in (200, 201) and mailing.status == 201, (created.body, mailing.body)
        ids = [str(client_id), str(mailing.json()["id"])]
        return {"headers": [bearer, {"Cookie": f"notifications_token={token}", "Sec-Fetch-Site": "same-origin"},
                            {"Cookie": f"notifications_token={token}"}],
                "ids": {"id": ids, "asset": ["swagger-ui.css", "swagger-ui-bundle.js", "index.html"]}}

    problems, counts, statuses = fuzz_support.fuzz_routes(notifications, known, MAX_EXAMPLES)
    assert len(counts) == len(notifications.routes()) and sum(counts.values()) >= MAX_EXAMPLES * len(counts)
    assert statuses[200] > 200 and statuses[400] > 300         # past sign-in, and into the checks
    assert problems == {}, "\n".join(f"{route}: {found}" for route, found in problems.items())
