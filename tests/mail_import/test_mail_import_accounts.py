"""Adding a mailbox (issue 22, items 1-2): the login is checked against the real IMAP server before anything is
stored, a refused one is a form error saying what to do, and the same mailbox twice is the same account."""
from urllib.parse import urlencode

import pytest
from chalice.test import Client

from functions.mail_import.chalicelib.engine import imap_session
from functions.mail_import.chalicelib.engine.failures import WRONG_PASSWORD, ImportFailure

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def post_form(client, fields, language="ru"):
    return client.http.post("/accounts", body=urlencode(fields), headers=dict(FORM, **{"Accept-Language": language}))


def stored(db, login):
    return db("SELECT id FROM mail_import.accounts WHERE lower(login) = lower(%s) ORDER BY id", login)


@pytest.fixture
def mailbox(dovecot):
    return dovecot.new_mailbox("checked")


def test_a_refused_login_is_a_form_error_in_the_readers_language_and_nothing_is_stored(app_module, mailbox, db):
    wrong = mailbox.account_input(password="not the password")
    with Client(app_module.app) as client:
        russian = post_form(client, wrong)
        english = post_form(client, wrong, "en")
        api = client.http.post("/api/accounts", body=urlencode(wrong), headers=FORM)
    assert russian.status_code == 400 and "Неверный логин или пароль" in russian.body.decode()
    assert 'id="form-error"' in russian.body.decode() and 'id="login-advice"' in russian.body.decode()
    assert english.status_code == 400 and "Wrong login or password" in english.body.decode()
    assert mailbox.password not in russian.body.decode() and "not the password" not in russian.body.decode()
    assert api.status_code == 400 and api.json_body["field"] == "password"
    assert stored(db, mailbox.login) == []


def test_a_server_that_is_not_there_is_a_form_error_naming_the_server(app_module, mailbox, db):
    with Client(app_module.app) as client:
        api = client.http.post("/api/accounts", body=urlencode(mailbox.account_input(port="1")), headers=FORM)
    assert api.status_code == 400 and api.json_body["field"] == "host"
    assert "connection refused" in api.json_body["error"]
    assert stored(db, mailbox.login) == []


@pytest.mark.parametrize("provider, link", [
    ("gmail.com", "https://myaccount.google.com/apppasswords"),
    ("yandex.ru", "https://id.yandex.ru/security/app-passwords"),
    ("mail.ru", "https://account.mail.ru/user/2-step-auth/passwords/"),
])
def test_a_providers_refusal_says_to_make_an_app_password_with_its_settings_link(
        app_module, db, monkeypatch, provider, link):
    def refused(server, timeout=None):
        raise ImportFailure(WRONG_PASSWORD, login=server.login, server="[AUTHENTICATIONFAILED] Invalid credentials")
    monkeypatch.setattr(imap_session, "connect", refused)
    monkeypatch.setattr(imap_session, "destination", lambda server, allowed: "192.0.2.1")  # no DNS here
    login = f"someone.{provider}@{provider}"
    fields = {"provider": provider, "login": login, "password": "my usual password"}
    with Client(app_module.app) as client:
        russian = post_form(client, fields).body.decode()
        english = post_form(client, fields, "en").body.decode()
        api = client.http.post("/api/accounts", body=urlencode(fields), headers=FORM)
    assert f'href="{link}"' in russian and f'href="{link}"' in english
    assert "Создать пароль приложения" in russian and "Create an app password" in english
    assert 'id="login-advice"' in russian and provider.split(".")[0].capitalize() in english
    assert api.status_code == 400 and api.json_body["help"] == link and api.json_body["provider"] == provider
    assert stored(db, login) == []


def test_a_working_login_is_stored_once_and_the_same_mailbox_again_is_the_same_account(app_module, mailbox, db):
    with Client(app_module.app) as client:
        first = client.http.post("/api/accounts", headers=FORM, body=urlencode(mailbox.account_input()))
        assert first.status_code == 201 and first.json_body["existing"] is False
        account_id = first.json_body["id"]
        again = client.http.post("/api/accounts", headers=FORM, body=urlencode(mailbox.account_input(
            login=mailbox.login.upper(), host=mailbox.host.upper())))
        assert again.status_code == 200 and again.json_body["id"] == account_id and again.json_body["existing"]
        # Both tokens open the account: the first browser keeps its access.
        for token in (first.json_body["token"], again.json_body["token"]):
            assert client.http.get(f"/api/accounts/{account_id}",
                                   headers={"Authorization": f"Bearer {token}"}).status_code == 200
        form = post_form(client, mailbox.account_input(login=mailbox.login.upper()))
        assert form.status_code == 303 and form.headers["Location"].endswith(f"/accounts/{account_id}")
        # The password must be proven again: a wrong one gets nothing.
        refused = client.http.post("/api/accounts", headers=FORM,
                                   body=urlencode(mailbox.account_input(password="a guess")))
        assert refused.status_code == 400 and "token" not in refused.json_body
    assert stored(db, mailbox.login) == [(account_id,)]
    assert db("SELECT count(*) FROM mail_import.account_tokens WHERE account_id = %s", account_id) == [(2,)]


def test_the_start_page_lists_the_mailboxes_this_browsers_cookies_open(
        app_module, dovecot, new_account, run_import, db):
    from mail_import_corpus import make_message
    imported, fresh, foreign = (dovecot.new_mailbox(name) for name in ("mine", "mine too", "not mine"))
    imported.fill("INBOX", [make_message(i, False) for i in range(3)])
    imported_id, imported_token = new_account(imported, folders="INBOX")
    assert run_import(imported_id).job["state"] == "done"
    fresh_id, fresh_token = new_account(fresh)
    foreign_id, _foreign_token = new_account(foreign)
    cookie = "; ".join([f"mail_import_{imported_id}={imported_token}", f"mail_import_{fresh_id}={fresh_token}",
                        f"mail_import_{foreign_id}=a-guess", "mail_import_999999999=x", "other=1"])
    with Client(app_module.app) as client:
        russian = client.http.get("/", headers={"Cookie": cookie}).body.decode()
        english = client.http.get("/", headers={"Cookie": cookie, "Accept-Language": "en"}).body.decode()
        nobody = client.http.get("/").body.decode()
    assert 'id="my-mailboxes"' in russian and "Мои ящики" in russian and "My mailboxes" in english
    assert f'href="/accounts/{imported_id}">{imported.login}</a>' in russian
    assert f'href="/accounts/{fresh_id}">{fresh.login}</a>' in russian
    assert foreign.login not in russian and f"/accounts/{foreign_id}" not in russian      # a wrong token shows nothing
    row = russian[russian.index(f'data-account="{imported_id}"'):]
    row = row[:row.index("</tr>")]
    assert "синхронизирован" in row and '<td class="count">3</td>' in row and 'class="synced">20' in row
    row = english[english.index(f'data-account="{fresh_id}"'):]
    assert "not imported yet" in row[:row.index("</tr>")] and "—" in row[:row.index("</tr>")]
    assert 'id="my-mailboxes"' not in nobody
