"""Operators sign in with the organisation's OpenID provider: the whole flow over real HTTP, the local cloud's API
against the provider emulator (local/emulators/oidc_provider.py), a requests session as the browser."""
import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from emulators.oidc_provider import OidcProviderEmulator

from notifications_helpers import OPERATOR, PASSWORD

CLIENT_ID = "notifications-test"
CLIENT_SECRET = "test-client-secret-not-a-secret"


@pytest.fixture(scope="module")
def idp():
    provider = OidcProviderEmulator(client_id=CLIENT_ID, client_secret=CLIENT_SECRET).start()
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def oidc_cloud(start_cloud, idp):
    return start_cloud(functions=["NotificationsApiFunction"], parameters={
        "NotificationsOidcIssuer": idp.url, "NotificationsOidcClientId": CLIENT_ID,
        "NotificationsOidcClientSecret": CLIENT_SECRET, "NotificationsOidcAllowedDomain": "example.com"})


@pytest.fixture
def base(oidc_cloud, idp, clean):
    idp.reset()
    idp.configure(user_email="alice@example.com", email_verified=True, deny=False, claims={}, foreign_key=False)
    return oidc_cloud.api_url("NotificationsApi")


def browser():
    session = requests.Session()
    session.headers["Accept-Language"] = "en"
    return session


def get(session, url, **kwargs):
    return session.get(url, allow_redirects=False, timeout=30, **kwargs)


def authorize(session, base):
    """The sign-in up to the provider's redirect back: (callback URL, the authorization request's parameters)."""
    login = get(session, base + "/admin/oidc/login")
    assert login.status_code == 302, login.text
    request = {k: v[0] for k, v in parse_qs(urlsplit(login.headers["Location"]).query).items()}
    back = get(session, login.headers["Location"])
    assert back.status_code == 302, back.text
    return back.headers["Location"], request


def sessions(sql):
    return sql("SELECT count(*) FROM notifications.tokens")[0][0]


def test_sign_in_session_and_sign_out(base, idp, sql):
    session = browser()
    assert "/admin/oidc/login" in get(session, base + "/admin").text     # the sign-in page offers the provider

    callback, request = authorize(session, base)
    # the authorization request: code flow, PKCE S256, a state and a nonce, our callback
    assert request["response_type"] == "code" and request["code_challenge_method"] == "S256"
    assert request["client_id"] == CLIENT_ID and "openid" in request["scope"].split()
    assert len(request["state"]) >= 32 and len(request["nonce"]) >= 32 and len(request["code_challenge"]) == 43
    # our callback on this API (under the stage prefix the pages use, as API Gateway serves them)
    assert request["redirect_uri"].startswith(base + "/") and request["redirect_uri"].endswith("/admin/oidc/callback")
    assert urlsplit(callback).path.endswith("/admin/oidc/callback")

    done = get(session, callback)
    assert done.status_code == 200, done.text
    assert "Continue to the admin page" in done.text and done.headers["Refresh"].endswith("/admin")
    assert "notifications_token" in session.cookies and "notifications_oidc" not in session.cookies
    assert [e["status"] for e in idp.requests if e["endpoint"] == "token"] == [200]

    page = get(session, base + "/admin")
    assert page.status_code == 200 and 'action="' in page.text and "/admin/logout" in page.text   # the dashboard
    assert sql("SELECT username FROM notifications.operators WHERE username LIKE '%%@%%'") == [("alice@example.com",)]
    assert sessions(sql) == 1

    # the callback cannot be replayed (its flow cookie is gone, its code was good once)
    assert get(session, callback).status_code == 401
    out = session.post(base + "/admin/logout", data="", allow_redirects=False, timeout=30,
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert out.status_code == 303
    assert sessions(sql) == 0
    assert "/admin/oidc/login" in get(session, base + "/admin").text
    assert "notifications_token" not in session.cookies


def test_password_operator_and_provider_operator_side_by_side(base, sql):
    session = browser()
    answer = session.post(base + "/admin/login", data={"username": OPERATOR, "password": PASSWORD},
                          allow_redirects=False, timeout=30)
    assert answer.status_code == 303
    other = browser()
    callback, _ = authorize(other, base)
    assert get(other, callback).status_code == 200
    assert sessions(sql) == 2


def test_refused_domain(base, idp, sql):
    idp.configure(user_email="mallory@example.org")
    session = browser()
    callback, _ = authorize(session, base)
    page = get(session, callback)
    assert page.status_code == 401
    assert "Accounts of example.org may not sign in here" in page.text and "example.com" in page.text
    assert "notifications_token" not in session.cookies
    assert sessions(sql) == 0
    assert sql("SELECT count(*) FROM notifications.operators WHERE username = 'mallory@example.org'")[0][0] == 0


def test_lookalike_domain_refused(base, idp, sql):
    idp.configure(user_email="eve@evil-example.com")
    session = browser()
    callback, _ = authorize(session, base)
    assert get(session, callback).status_code == 401
    assert sessions(sql) == 0


def test_unverified_email_refused(base, idp, sql):
    idp.configure(email_verified=False)
    session = browser()
    callback, _ = authorize(session, base)
    page = get(session, callback)
    assert page.status_code == 401 and "verified e-mail" in page.text
    assert sessions(sql) == 0


def test_bad_state(base, sql):
    session = browser()
    callback, request = authorize(session, base)
    forged = callback.replace(request["state"], "x" * len(request["state"]))
    page = get(session, forged)
    assert page.status_code == 401 and "sign-in expired" in page.text
    assert sessions(sql) == 0
    # the same callback in a browser that never started the sign-in (no flow cookie): refused as well
    assert get(browser(), callback).status_code == 401
    assert sessions(sql) == 0


def test_wrong_pkce_verifier(base, idp, sql):
    """An attacker's code injected into the victim's callback: the state is the victim's, but the code was
    issued for another verifier's challenge, so the provider refuses the exchange."""
    attacker, victim = browser(), browser()
    attacker_callback, _ = authorize(attacker, base)
    victim_callback, victim_request = authorize(victim, base)
    attacker_code = parse_qs(urlsplit(attacker_callback).query)["code"][0]
    injected = f"{base}/admin/oidc/callback?code={attacker_code}&state={victim_request['state']}"
    page = get(victim, injected)
    assert page.status_code == 401 and "did not confirm the sign-in" in page.text
    assert [e["error_description"] for e in idp.requests if e["endpoint"] == "token"] == ["PKCE verification failed"]
    assert sessions(sql) == 0


@pytest.mark.parametrize("claims, foreign_key", [
    ({"aud": "another-client"}, False),
    ({"iss": "http://127.0.0.1:1"}, False),
    ({"nonce": "not-the-one-sent"}, False),
    ({"nonce": None}, False),
    ({"exp": 1_000_000_000, "iat": 999_999_000}, False),
    ({}, True),                                      # signed with a key the provider's JWKS does not hold
], ids=["audience", "issuer", "nonce", "no-nonce", "expired", "signature"])
def test_id_token_verified(base, idp, sql, claims, foreign_key):
    idp.configure(claims=claims, foreign_key=foreign_key)
    session = browser()
    callback, _ = authorize(session, base)
    page = get(session, callback)
    assert page.status_code == 401 and "did not confirm the sign-in" in page.text
    assert sessions(sql) == 0


def test_provider_denies(base, idp, sql):
    idp.configure(deny=True)
    session = browser()
    callback, _ = authorize(session, base)
    assert "error=access_denied" in callback
    assert get(session, callback).status_code == 401
    assert sessions(sql) == 0


def test_russian_by_default(base, idp):
    idp.configure(user_email="mallory@example.org")
    session = requests.Session()
    callback, _ = authorize(session, base)
    page = get(session, callback)
    assert page.status_code == 401 and "example.org" in page.text and "Accounts of" not in page.text


@pytest.mark.server     # the emulator is a real HTTP server
def test_emulator_checks_the_verifier(idp):
    """The emulator's token endpoint itself: the right verifier gets tokens, any other does not."""
    idp.reset()
    idp.configure(user_email="alice@example.com", claims={}, foreign_key=False, deny=False)
    verifier = "v" * 64
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()

    def code():
        answer = requests.get(idp.url + "/authorize", allow_redirects=False, timeout=10, params={
            "response_type": "code", "client_id": CLIENT_ID, "redirect_uri": "http://127.0.0.1/cb",
            "scope": "openid email", "state": "s", "nonce": "n", "code_challenge": challenge,
            "code_challenge_method": "S256"})
        return parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]

    def exchange(value, secret=CLIENT_SECRET, code_verifier=verifier):
        return requests.post(idp.url + "/token", auth=(CLIENT_ID, secret), timeout=10, data={
            "grant_type": "authorization_code", "code": value, "redirect_uri": "http://127.0.0.1/cb",
            "code_verifier": code_verifier})

    assert exchange(code(), code_verifier="w" * 64).json()["error_description"] == "PKCE verification failed"
    assert exchange(code(), secret="wrong").status_code == 401
    good = exchange(code())
    assert good.status_code == 200 and good.json()["id_token"].count(".") == 2


def test_without_an_issuer_password_sign_in_only(start_cloud, clean):
    cloud = start_cloud(functions=["NotificationsApiFunction"], parameters={"NotificationsOidcIssuer": ""})
    base = cloud.api_url("NotificationsApi")
    session = browser()
    assert "/admin/oidc/login" not in get(session, base + "/admin").text
    assert get(session, base + "/admin/oidc/login").status_code == 404
    answer = session.post(base + "/admin/login", data={"username": OPERATOR, "password": PASSWORD},
                          allow_redirects=False, timeout=30)
    assert answer.status_code == 303 and "notifications_token" in session.cookies


@pytest.mark.parametrize("locale, link, mailings", [("ru-RU", "Войти с учётной записью организации", "Рассылки"),
                                                    ("en-US", "Sign in with your organisation's account", "Mailings")])
def test_chromium_signs_in_and_out_through_the_provider(chromium, base, idp, sql, locale, link, mailings):
    context = chromium.new_context(locale=locale)
    page = context.new_page()
    page.goto(base + "/admin")
    page.click(f"text={link}")          # -> the provider, which approves at once -> the callback's page -> /admin
    page.wait_for_url("**/admin")
    assert page.locator("h2").first.inner_text() == mailings
    assert sessions(sql) == 1
    page.click("form[action$='/admin/logout'] button")
    page.wait_for_url("**/admin")
    assert page.locator(f"text={link}").count() == 1
    assert sessions(sql) == 0
    context.close()
