"""The site's locks: no password means nobody gets in, a bad setting is a 503 page, a bad form a 400."""
import pytest
import requests

from broadcast_helpers import PASSWORD, SECRET, USER, basic
from functions.broadcast.chalicelib import auth

ENGLISH = {"Accept-Language": "en"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def test_without_a_password_no_credentials_and_no_form_token_are_accepted(make_settings):
    locked = make_settings(broadcast_password="")
    for header in (basic(USER, ""), basic("", ""), basic(USER, PASSWORD), "Basic Og=="):   # Og== is ":"
        assert not auth.basic_ok(locked, header), header
    # The token would be an HMAC under an empty key, which anyone can compute.
    assert not auth.csrf_ok(locked, auth.csrf_token(locked))
    open_site = make_settings()
    assert auth.basic_ok(open_site, basic()) and auth.csrf_ok(open_site, auth.csrf_token(open_site))


@pytest.fixture(scope="module")
def unset_password_site(start_cloud, emulator_server):
    cloud = start_cloud(functions=["BroadcastWebFunction"], parameters={
        "BroadcastUser": USER, "BroadcastPassword": "", "BroadcastWebhookSecret": SECRET,
        "ChatAppBaseUrl": emulator_server.url})
    return cloud.api_url("BroadcastApi")


@pytest.mark.parametrize("method,path", [("GET", "/"), ("GET", "/broadcasts/1"), ("POST", "/broadcasts")])
def test_a_site_without_a_password_locks_everyone_out(unset_password_site, emulator, method, path):
    for header in (basic(USER, ""), basic("", ""), basic(USER, PASSWORD)):
        resp = requests.request(method, unset_password_site + path, data="text=x&numbers=1", timeout=60,
                                headers=dict(ENGLISH, **FORM, Authorization=header))
        assert resp.status_code == 401, (header, resp.text[:300])
        assert "Traceback" not in resp.text


def test_a_bad_setting_gives_the_not_configured_page(start_cloud, emulator_server, emulator):
    cloud = start_cloud(functions=["BroadcastWebFunction"], parameters={
        "BroadcastUser": USER, "BroadcastPassword": PASSWORD, "BroadcastWebhookSecret": SECRET,
        "ChatAppBaseUrl": emulator_server.url, "BroadcastDelayRange": "50-5"})
    resp = requests.get(cloud.api_url("BroadcastApi") + "/", headers=dict(ENGLISH, Authorization=basic()),
                        timeout=60)
    assert resp.status_code == 503, resp.text[:300]
    assert resp.headers["Content-Type"].startswith("text/html")
    assert "50-5" in resp.text and "Traceback" not in resp.text      # names the value to fix


@pytest.mark.parametrize("body", [
    b"text=%FF%FE&numbers=1",                                   # percent-escapes that are not UTF-8
    b"text=\xff\xfe&numbers=1",                                 # raw bytes that are not UTF-8
    "&".join(f"f{n}=x" for n in range(25)).encode(),           # more fields than the form has
])
def test_an_unreadable_form_is_a_400_page(site, emulator, body):
    resp = requests.post(site + "/broadcasts", data=body, timeout=60, allow_redirects=False,
                         headers=dict(ENGLISH, **FORM, Authorization=basic()))
    assert resp.status_code == 400, resp.text[:300]
    assert resp.headers["Content-Type"].startswith("text/html") and "Traceback" not in resp.text
