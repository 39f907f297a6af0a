"""The account's life (issue 22): a forgotten password (a single-use reset link, the same answer for any address,
every session ended), changing the password and the e-mail address, reports in the reader's language."""
import re
import uuid

import pytest

from code_check_helpers import PASSWORD, Browser, sent_mail
from common import signed_links
from functions.code_check.chalicelib.accounts import profile, recovery, users
from functions.code_check.chalicelib.checks import tick
from functions.code_check.chalicelib.files import store
from functions.code_check.chalicelib.reports import notifier

EN = {"Accept-Language": "en"}
NEW_PASSWORD = "a brand new secret 7"


def mails_to(endpoint, address):
    return [m for m in sent_mail(endpoint) if address in m["destinations"]["ToAddresses"]]


def reset_token(mail):
    return re.search(r"/password/reset\?token=([A-Za-z0-9_.-]+)", mail["body"]).group(1)


def forgot(base, email, headers=None):
    anyone = Browser(base)
    page = anyone.get("/password/forgot", headers=headers)
    assert page.status_code == 200
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return anyone.post("/password/forgot", {"email": email, "csrf": csrf}, headers=headers)


def signed_in(browser_):
    return browser_.get("/").status_code == 200


def user_row(tx, email):
    with tx() as cur:
        cur.execute("SELECT id, email, pending_email, confirmed_at IS NOT NULL, language FROM code_check.users "
                    "WHERE lower(email) = lower(%s)", (email,))
        return cur.fetchone()


@pytest.fixture(autouse=True)
def _no_reset_throttle(conn):
    with conn, conn.cursor() as cur:
        cur.execute("DELETE FROM code_check.sign_in_attempts")


def test_a_reset_link_sets_a_new_password_once_and_ends_every_session(browser, aws_endpoint, tx):
    me = browser()
    other_device = Browser(me.base)
    other_device.http.cookies.update(me.http.cookies)
    second = Browser(me.base)
    assert second.post("/login", {"email": me.email, "password": PASSWORD}).status_code == 303
    assert signed_in(me) and signed_in(second)
    answer = forgot(me.base, me.email)
    assert answer.status_code == 200 and 'id="reset-sent"' in answer.text
    [mail] = [m for m in mails_to(aws_endpoint, me.email) if "reset" in m["body"]]
    assert mail["subject"] == "code_check: сброс пароля"        # registered from a browser without a language
    token = reset_token(mail)
    # Opening the link only shows the form; nothing is used up yet.
    shown = Browser(me.base).get(f"/password/reset?token={token}")
    assert shown.status_code == 200 and 'name="password"' in shown.text
    weak = Browser(me.base).post("/password/reset", {"token": token, "password": "short"}, csrf=False, headers=EN)
    assert weak.status_code == 400 and "too short" in weak.text
    done = Browser(me.base).post("/password/reset", {"token": token, "password": NEW_PASSWORD}, csrf=False,
                                 headers=EN)
    assert done.status_code == 200 and 'id="reset-done"' in done.text
    # Every session of the account has ended.
    assert not signed_in(me) and not signed_in(second) and not signed_in(other_device)
    assert Browser(me.base).post("/login", {"email": me.email, "password": PASSWORD}).status_code == 401
    assert Browser(me.base).post("/login", {"email": me.email, "password": NEW_PASSWORD}).status_code == 303
    again = Browser(me.base).post("/password/reset", {"token": token, "password": "another secret 99"},
                                  csrf=False, headers=EN)
    assert again.status_code == 400 and "already used" in again.text
    again_ru = Browser(me.base).post("/password/reset", {"token": token, "password": "another secret 99"},
                                     csrf=False)
    assert "уже использована" in again_ru.text


def test_forgot_answers_the_same_for_unknown_addresses_and_throttles_them_the_same(browser, aws_endpoint):
    me = browser()
    unknown = f"nobody.{uuid.uuid4().hex[:8]}@test.example"
    known_answer, unknown_answer = forgot(me.base, me.email, EN), forgot(me.base, unknown, EN)
    assert known_answer.status_code == unknown_answer.status_code == 200

    def shown(answer):
        return re.sub(r'value="[^"]+"', "", answer.text)
    assert shown(known_answer) == shown(unknown_answer)
    assert mails_to(aws_endpoint, unknown) == []
    assert len([m for m in mails_to(aws_endpoint, me.email) if "reset" in m["body"]]) == 1
    # The per-address limit is counted the same for both: after PER_EMAIL.free requests, 429 for either.
    for _ in range(recovery.PER_EMAIL.free - 1):
        assert forgot(me.base, me.email).status_code == 200
        assert forgot(me.base, unknown).status_code == 200
    refused_known, refused_unknown = forgot(me.base, me.email, EN), forgot(me.base, unknown, EN)
    assert refused_known.status_code == refused_unknown.status_code == 429
    assert 'id="reset-error"' in refused_known.text and 'id="reset-error"' in refused_unknown.text
    assert len([m for m in mails_to(aws_endpoint, me.email) if "reset" in m["body"]]) == recovery.PER_EMAIL.free


@pytest.mark.parametrize("make, en", [
    (lambda user_id, email: signed_links.make(recovery.PURPOSE, f"{user_id}:{email}:x", -1), "has expired"),
    (lambda user_id, email: signed_links.make(recovery.PURPOSE, f"{user_id}:{email}:x", 60, key="forged"),
     "not valid"),
    (lambda user_id, email: signed_links.make("code_check.confirm-email", f"{user_id}:{email}", 60), "not valid"),
    # A link made before the password changed (its fingerprint is another hash's) resets nothing.
    (lambda user_id, email: signed_links.make(recovery.PURPOSE, f"{user_id}:{email}:0000000000000000", 60),
     "not valid"),
])
def test_expired_forged_foreign_or_stale_reset_links_change_nothing(browser, tx, make, en):
    me = browser()
    user_id = user_row(tx, me.email)[0]
    token = make(user_id, me.email.lower())
    answer = Browser(me.base).post("/password/reset", {"token": token, "password": NEW_PASSWORD}, csrf=False,
                                   headers=EN)
    assert answer.status_code == 400 and en in answer.text
    assert signed_in(me)
    assert users.login(me.email, PASSWORD, "192.0.2.9") == (user_id, None)


def test_a_reset_link_made_before_another_reset_is_void(make_user, tx, cc_settings, monkeypatch, secret_key):
    user_id = make_user()
    email = user_row_by_id(tx, user_id)[1]
    sent = []
    monkeypatch.setattr(recovery, "_send", lambda settings, to, link, language, uid: sent.append(link))
    recovery.request(cc_settings, "https://site.example", email, "192.0.2.1", "en")
    recovery.request(cc_settings, "https://site.example", email, "192.0.2.1", "en")
    first, second = (link.split("token=")[1] for link in sent)
    assert recovery.reset(second, NEW_PASSWORD) == email
    with pytest.raises(recovery.Unusable) as refused:
        recovery.reset(first, "yet another secret 5")
    assert refused.value.reason == signed_links.INVALID


def user_row_by_id(tx, user_id):
    with tx() as cur:
        cur.execute("SELECT id, email FROM code_check.users WHERE id = %s", (user_id,))
        return cur.fetchone()


def test_changing_the_password_needs_the_current_one_and_ends_the_other_sessions(browser):
    me = browser()
    other = Browser(me.base)
    assert other.post("/login", {"email": me.email, "password": PASSWORD}).status_code == 303
    page = me.get("/account", headers=EN)
    assert page.status_code == 200 and "Change the password" in page.text
    wrong = me.post("/account/password", {"current": "not my password 1", "new": NEW_PASSWORD}, headers=EN)
    assert wrong.status_code == 400 and "current password is wrong" in wrong.text
    assert signed_in(other)
    done = me.post("/account/password", {"current": PASSWORD, "new": NEW_PASSWORD}, headers=EN)
    assert done.status_code == 200 and 'id="account-done"' in done.text
    assert signed_in(me) and not signed_in(other)
    assert Browser(me.base).post("/login", {"email": me.email, "password": NEW_PASSWORD}).status_code == 303
    assert Browser(me.base).get("/account").status_code == 303          # not signed in: the login page


def test_a_new_address_is_used_only_once_its_link_is_opened(browser, aws_endpoint, tx):
    me = browser()
    taken = browser()
    refused = me.post("/account/email", {"email": taken.email.upper(), "current": PASSWORD}, headers=EN)
    assert refused.status_code == 400 and "already registered" in refused.text
    new = f"moved.{uuid.uuid4().hex[:8]}@test.example"
    asked = me.post("/account/email", {"email": new, "current": PASSWORD}, headers=EN)
    assert asked.status_code == 200 and new in asked.text
    user_id, email, pending, confirmed, _ = user_row(tx, me.email)
    assert (email, pending, confirmed) == (me.email, new, True)     # reports still go to the old address
    [mail] = mails_to(aws_endpoint, new)
    token = re.search(r"/account/email/confirm\?token=([A-Za-z0-9_.-]+)", mail["body"]).group(1)
    assert Browser(me.base).get(f"/account/email/confirm?token={token}").status_code == 200
    assert user_row(tx, me.email)[1] == me.email                  # opening the link alone changes nothing
    done = Browser(me.base).post("/account/email/confirm", {"token": token}, csrf=False, headers=EN)
    assert done.status_code == 200 and new in done.text
    assert user_row(tx, new)[:4] == (user_id, new, None, True)
    again = Browser(me.base).post("/account/email/confirm", {"token": token}, csrf=False, headers=EN)
    assert again.status_code == 400 and "already used" in again.text
    assert Browser(me.base).post("/login", {"email": new, "password": PASSWORD}).status_code == 303


def test_an_address_change_link_is_void_once_the_address_was_registered_by_someone_else(make_user, tx, secret_key):
    user_id = make_user()
    email = user_row_by_id(tx, user_id)[1]
    new = f"race.{uuid.uuid4().hex[:8]}@test.example"
    with tx() as cur:
        cur.execute("UPDATE code_check.users SET pending_email = %s WHERE id = %s", (new, user_id))
    token = signed_links.make(profile.EMAIL_PURPOSE, f"{user_id}:{email.lower()}:{new}", 60)
    with tx() as cur:
        users.register(cur, new, PASSWORD)
    found, error = profile.confirm_email(token)
    assert found is None and error.reason == signed_links.INVALID
    assert user_row_by_id(tx, user_id)[1] == email


def test_the_language_of_registration_is_remembered(base_url, tx):
    english, russian = Browser(base_url), Browser(base_url)
    english.http.headers["Accept-Language"] = "en-GB,en;q=0.9"
    english.register()
    russian.http.headers["Accept-Language"] = "ru-RU,ru;q=0.9,en;q=0.5"
    russian.register()
    assert user_row(tx, english.email)[4] == "en" and user_row(tx, russian.email)[4] == "ru"


@pytest.mark.parametrize("language, subject, heading, absent", [
    ("ru", "Отчёт code_check: проблем 2 (новых 2): версия 1 файла l.py", "Новые проблемы", "New problems"),
    ("en", "code_check report: 2 problems (2 new) in version 1 of l.py", "New problems", "Новые проблемы"),
])
def test_reports_are_mailed_in_the_language_of_registration(tx, cc_settings, aws_endpoint, language, subject,
                                                            heading, absent):
    email = f"lang.{uuid.uuid4().hex[:8]}@test.example"
    with tx() as cur:
        user_id = users.register(cur, email, PASSWORD, language=language)
        cur.execute("UPDATE code_check.users SET confirmed_at = now() WHERE id = %s", (user_id,))
        store.upload(cur, cc_settings.bucket, user_id, "l.py", b"import os\nx=1\n")
    tick.tick(cc_settings)
    with tx() as cur:
        cur.execute("""SELECT c.id FROM code_check.checks c JOIN code_check.versions v ON v.id = c.version_id
                       JOIN code_check.files f ON f.id = v.file_id WHERE f.user_id = %s""", (user_id,))
        check_id = cur.fetchone()[0]
    assert notifier.notify(cc_settings, check_id) == "sent"
    [mail] = mails_to(aws_endpoint, email)
    assert mail["subject"] == subject
    assert heading in mail["body"] and absent not in mail["body"]


@pytest.mark.parametrize("locale, sent_text, done_text", [
    ("ru-RU", "ссылка для нового пароля", "Пароль"),
    ("en-US", "a link to set a new password", "is changed"),
])
def test_the_reset_flow_in_chromium(browser, chromium, aws_endpoint, locale, sent_text, done_text):
    me = browser()
    page = chromium.new_page(locale=locale)
    page.goto(me.base + "/login")
    page.click("#forgot")
    page.fill("#email", me.email)
    page.click("#send-reset")
    assert sent_text in page.inner_text("#reset-sent")
    [mail] = [m for m in mails_to(aws_endpoint, me.email) if "reset" in m["body"]]
    url = re.search(r"(\S+/password/reset\?token=[A-Za-z0-9_.-]+)", mail["body"]).group(1)
    assert url.startswith(me.base + "/")
    page.goto(url)
    page.fill("#password", NEW_PASSWORD)
    page.click("#set-password")
    assert done_text in page.inner_text("#reset-done") and me.email in page.inner_text("#reset-done")
    assert not signed_in(me)
    page.goto(me.base + "/login")
    page.fill("#email", me.email)
    page.fill("#password", NEW_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#files")
    page.close()


@pytest.mark.parametrize("make", [
    lambda: "", lambda: "garbage", lambda: signed_links.make(profile.EMAIL_PURPOSE, "1:a@b.example:c@d.example", -1)])
def test_an_unusable_address_change_link_is_a_400_page(base_url, make):
    token = make()
    for answer in (Browser(base_url).post("/account/email/confirm", {"token": token}, csrf=False, headers=EN),
                   Browser(base_url).get(f"/account/email/confirm?token={token}", headers=EN)):
        assert answer.status_code == 400 and 'id="confirm-error"' in answer.text
