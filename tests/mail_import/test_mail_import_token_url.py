"""Access tokens leave the address bar: a link with ?token= sets the cookie and redirects to the same URL
without it; pages carrying a token are never cached; the link with the token is shown once."""
import re

import pytest
import requests

from mail_import_support import FUNCTIONS


@pytest.fixture(scope="module")
def api(start_cloud):
    return start_cloud(functions=FUNCTIONS).api_url("MailImportApi")


@pytest.fixture
def account(api, dovecot):
    body = requests.post(f"{api}/api/accounts", json=dovecot.new_mailbox("link").account_input(), timeout=30).json()
    return body["id"], body["token"]


def test_a_link_with_the_token_sets_the_cookie_and_redirects_without_it(api, account):
    account_id, token = account
    opened = requests.get(f"{api}/accounts/{account_id}?token={token}&lang=x", allow_redirects=False, timeout=30)
    # The stage prefix (/prod) is optional on the local gateway, as both kinds of URL work on AWS.
    assert opened.status_code == 303 and re.fullmatch(rf"(/prod)?/accounts/{account_id}\?lang=x",
                                                      opened.headers["Location"])
    assert token not in opened.headers["Location"] and opened.headers["Cache-Control"] == "no-store"
    assert opened.cookies[f"mail_import_{account_id}"] == token and opened.cookies[f"mail_import_{account_id}_link"]

    browser = requests.Session()
    first = browser.get(f"{api}/accounts/{account_id}?token={token}", timeout=30)
    assert first.status_code == 200 and re.fullmatch(rf"{api}(/prod)?/accounts/{account_id}", first.url)
    assert first.headers["Cache-Control"] == "no-store"
    assert f"/accounts/{account_id}?token={token}" in first.text and 'id="access-link"' in first.text
    again = browser.get(f"{api}/accounts/{account_id}", timeout=30)       # the link is shown once
    assert again.status_code == 200 and 'id="access-link"' not in again.text
    assert again.headers["Cache-Control"] == "no-store"


def test_the_form_redirects_to_the_page_without_the_token(api, dovecot):
    browser = requests.Session()
    created = browser.post(f"{api}/accounts", data=dovecot.new_mailbox("form").account_input(), allow_redirects=False,
                           timeout=30)
    assert created.status_code == 303 and re.fullmatch(r"(/prod)?/accounts/\d+", created.headers["Location"])
    account_id = created.headers["Location"].rsplit("/", 1)[1]
    token = browser.cookies[f"mail_import_{account_id}"]
    page = browser.get(api + created.headers["Location"], timeout=30)
    assert page.status_code == 200 and f"?token={token}" in page.text and "token=" not in page.url


def test_a_wrong_token_is_not_redirected(api, account):
    account_id, _token = account
    wrong = requests.get(f"{api}/accounts/{account_id}?token=nope", allow_redirects=False, timeout=30)
    assert wrong.status_code == 404 and "Set-Cookie" not in wrong.headers
