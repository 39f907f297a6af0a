"""No report e-mail to an address its owner has not confirmed: the signed single-use link, the pages saying what
happened (Russian and English), the daily cap, registrations per client address, the form upload's limits."""
import dataclasses
import re
import threading
import time
import uuid

import pytest

from code_check_helpers import PASSWORD, Browser, sent_mail
from code_check_helpers import tick as cloud_tick
from common import signed_links, web
from functions.code_check.chalicelib.accounts import confirmation, users
from functions.code_check.chalicelib.checks import tick
from functions.code_check.chalicelib.files import store
from functions.code_check.chalicelib.reports import notifier

EN = {"Accept-Language": "en"}
CONFIRM_SUBJECT = "code_check: confirm your e-mail address / подтвердите адрес"


def mails_to(endpoint, address):
    return [m for m in sent_mail(endpoint) if address in m["destinations"]["ToAddresses"]]


def token_in(mail):
    return re.search(r"/confirm\?token=([A-Za-z0-9_.-]+)", mail["body"]).group(1)


def test_registration_mails_a_link_that_confirms_once(browser, aws_endpoint, tx):
    me = browser(confirmed=False)
    [mail] = mails_to(aws_endpoint, me.email)
    assert mail["subject"] == CONFIRM_SUBJECT
    token = token_in(mail)
    # The link leads back to the site the person registered on (the web function has no URL of its own API).
    # (the stage prefix, /prod, is optional on the local gateway and part of an execute-api URL on AWS)
    assert re.search(rf"{re.escape(me.base)}(/prod)?/confirm\?token={re.escape(token)}", mail["body"])
    # Unconfirmed: the account works, and the page says reports are not e-mailed yet.
    assert "не подтверждён" in me.get("/").text
    assert "not confirmed yet" in me.get("/", headers=EN).text
    # Opening the link (a mail scanner may) only shows a button.
    shown = Browser(me.base).get(f"/confirm?token={token}")
    assert shown.status_code == 200 and "Подтвердить" in shown.text and me.email in shown.text
    assert _confirmed(tx, me.email) is False
    done = Browser(me.base).post("/confirm", {"token": token}, csrf=False, headers=EN)
    assert done.status_code == 200 and "is confirmed" in done.text and _confirmed(tx, me.email)
    assert "not confirmed yet" not in me.get("/", headers=EN).text
    again = Browser(me.base).post("/confirm", {"token": token}, csrf=False)
    assert again.status_code == 400 and "уже использована" in again.text
    again_en = Browser(me.base).post("/confirm", {"token": token}, csrf=False, headers=EN)
    assert "already used" in again_en.text


@pytest.mark.parametrize("make, ru, en", [
    (lambda user_id, email: signed_links.make(confirmation.PURPOSE, f"{user_id}:{email}", -1),
     "истёк", "has expired"),
    (lambda user_id, email: signed_links.make(confirmation.PURPOSE, f"{user_id}:{email}", 60, key="forged"),
     "недействительна", "not valid"),
    (lambda user_id, email: signed_links.make("code_check.reset-password", f"{user_id}:{email}", 60),
     "недействительна", "not valid"),
    (lambda user_id, email: "garbage", "недействительна", "not valid"),
])
def test_expired_forged_or_foreign_links_say_so_and_confirm_nothing(browser, tx, make, ru, en):
    me = browser(confirmed=False)
    token = make(_user_id(tx, me.email), me.email.lower())
    for method in ("get", "post"):
        for headers, text in (({}, ru), (EN, en)):
            anyone = Browser(me.base)
            answer = (anyone.get(f"/confirm?token={token}", headers=headers) if method == "get" else
                      anyone.post("/confirm", {"token": token}, csrf=False, headers=headers))
            assert answer.status_code == 400 and text in answer.text, (method, headers)
    assert _confirmed(tx, me.email) is False


def test_a_link_for_an_address_the_account_no_longer_has_is_void(tx, make_user, secret_key):
    user_id = make_user(confirmed=False)
    token = signed_links.make(confirmation.PURPOSE, f"{user_id}:someone.else@test.example", 60)
    with tx() as cur, pytest.raises(confirmation.Unusable) as refused:
        confirmation.confirm(cur, token)
    assert refused.value.reason == signed_links.INVALID


def test_another_link_on_request_but_not_too_often(browser, aws_endpoint, tx):
    me = browser(confirmed=False)
    too_soon = me.post("/confirm/resend", headers=EN)
    assert too_soon.status_code == 429 and "No new link was sent" in too_soon.text
    assert len(mails_to(aws_endpoint, me.email)) == 1
    with tx() as cur:
        cur.execute("UPDATE code_check.users SET confirmation_sent_at = now() - interval '11 minutes' "
                    "WHERE email = %s", (me.email,))
    sent = me.post("/confirm/resend")
    assert sent.status_code == 200 and "Новая ссылка отправлена" in sent.text
    mails = mails_to(aws_endpoint, me.email)
    assert len(mails) == 2 and token_in(mails[0]) != token_in(mails[1])


# ---- the notifier ------------------------------------------------------------------------------

def checked(tx, settings, user):
    with tx() as cur:
        stored = store.upload(cur, settings.bucket, user, f"{uuid.uuid4().hex[:6]}.py", b"import os\n")
    tick.tick(settings)
    with tx() as cur:
        cur.execute("""SELECT c.id FROM code_check.checks c JOIN code_check.versions v ON v.id = c.version_id
                       WHERE v.file_id = %s""", (stored.file_id,))
        return cur.fetchone()[0], stored


def email_of(tx, check_id):
    with tx() as cur:
        cur.execute("SELECT email_state, email_error FROM code_check.checks WHERE id = %s", (check_id,))
        return cur.fetchone()


def test_no_report_to_an_unconfirmed_address(tx, cc_settings, make_user, aws_endpoint):
    user = make_user(confirmed=False)
    email = _email(tx, user)
    check_id, _ = checked(tx, cc_settings, user)
    assert notifier.notify(cc_settings, check_id) == "skipped"
    assert email_of(tx, check_id) == ("skipped", notifier.NOT_CONFIRMED)
    assert mails_to(aws_endpoint, email) == []
    assert notifier.notify(cc_settings, check_id) == "already sent"      # decided once, not retried
    with tx() as cur:
        cur.execute("UPDATE code_check.users SET confirmed_at = now() WHERE id = %s", (user,))
    later, _ = checked(tx, cc_settings, user)
    assert notifier.notify(cc_settings, later) == "sent"
    assert len(mails_to(aws_endpoint, email)) == 1


def test_the_page_says_why_no_email_was_sent(browser, cc_cloud):
    me = browser(confirmed=False)
    me.upload(("quiet.py", b"x=1\n"))
    file_id = me.file_id("quiet.py")
    cloud_tick(cc_cloud)
    deadline, page = time.time() + 60, ""
    while time.time() < deadline and "no email" not in page:       # the notifier runs from the queue
        time.sleep(0.5)
        page = me.get(f"/files/{file_id}", headers=EN).text
    assert "no email" in page and "the e-mail address is not confirmed yet" in page
    russian = me.get(f"/files/{file_id}").text
    assert "письмо не отправлено" in russian and "адрес e-mail ещё не подтверждён" in russian


def test_a_daily_cap_of_report_emails_per_account(tx, cc_settings, make_user, aws_endpoint):
    settings = dataclasses.replace(cc_settings, daily_emails=2)
    user = make_user()
    email = _email(tx, user)
    results = [notifier.notify(settings, checked(tx, settings, user)[0]) for _ in range(3)]
    assert results == ["sent", "sent", "skipped"]
    assert len(mails_to(aws_endpoint, email)) == 2
    other = make_user()                                   # another account is not affected
    assert notifier.notify(settings, checked(tx, settings, other)[0]) == "sent"


def test_a_final_failure_is_mailed_with_the_platforms_subject(tx, cc_settings, make_user, aws_endpoint):
    user = make_user()
    email = _email(tx, user)
    with tx() as cur:
        stored = store.upload(cur, cc_settings.bucket, user, "Your-account-is-locked.py",
                              ("f = " + "lambda: " * 5000 + "0\n").encode())
    for _ in range(tick.MAX_ATTEMPTS):
        tick.tick(cc_settings)
    with tx() as cur:
        cur.execute("""SELECT c.id FROM code_check.checks c JOIN code_check.versions v ON v.id = c.version_id
                       WHERE v.file_id = %s AND c.outcome = 'failed'""", (stored.file_id,))
        check_id = cur.fetchone()[0]
    assert notifier.notify(cc_settings, check_id) == "sent"
    [mail] = mails_to(aws_endpoint, email)
    assert mail["subject"] == "code_check report: could not check version 1 of Your-account-is-locked.py"
    assert "could not be checked" in mail["body"] and "MemoryError" in mail["body"]


# ---- registrations per client address ----------------------------------------------------------

def test_registrations_are_limited_per_address(tx):
    address = f"203.0.113.{uuid.uuid4().int % 250}"
    with tx() as cur:
        cur.execute("UPDATE code_check.users SET registered_from = NULL WHERE registered_from = %s", (address,))

    def register(where):
        with tx() as cur:
            return users.register(cur, f"r{uuid.uuid4().hex[:10]}@test.example", PASSWORD, where, 3)
    for _ in range(3):
        register(address)
    with pytest.raises(web.AppError) as refused:
        register(address)
    assert refused.value.status == 429 and refused.value.headers["Retry-After"] == "3600"
    register(f"198.51.100.{uuid.uuid4().int % 250}")        # another address is not affected


def test_parallel_registrations_cannot_outrun_the_count(tx, pg_url):
    import psycopg2
    address = f"192.0.2.{uuid.uuid4().int % 250}"
    with tx() as cur:
        cur.execute("UPDATE code_check.users SET registered_from = NULL WHERE registered_from = %s", (address,))
    outcomes = []
    start = threading.Barrier(8, timeout=30)

    def attempt():
        connection = psycopg2.connect(pg_url)
        try:
            start.wait()
            with connection, connection.cursor() as cur:
                users.register(cur, f"p{uuid.uuid4().hex[:10]}@test.example", PASSWORD, address, 3)
            outcomes.append("ok")
        except web.AppError as exc:
            outcomes.append(exc.status)
        finally:
            connection.close()
    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sorted(outcomes, key=str) == [429] * 5 + ["ok"] * 3


def test_the_registration_page_answers_429_in_both_languages(base_url, tx):
    browsers = [Browser(base_url).register() for _ in range(5)]
    assert len(browsers) == 5
    for headers, text in (({}, "зарегистрировано слишком много"), (EN, "Too many accounts")):
        late = Browser(base_url)
        answer = late.post("/register", {"email": f"late{uuid.uuid4().hex[:8]}@test.example",
                                         "password": PASSWORD}, headers=headers)
        assert answer.status_code == 429 and answer.headers["Retry-After"] == "3600" and text in answer.text


# ---- form uploads ------------------------------------------------------------------------------

def test_a_form_upload_takes_at_most_20_files(browser, tx):
    me = browser()
    too_many = me.upload(*[(f"f{i}.py", b"x = 1\n") for i in range(21)])
    assert too_many.status_code == 400 and "не больше 20 файлов" in too_many.text
    assert _files(tx, me.email) == 0
    assert me.upload(*[(f"f{i}.py", b"x = 1\n") for i in range(20)]).status_code == 200
    assert _files(tx, me.email) == 20


def test_a_form_upload_past_the_body_limit_is_413(browser, tx):
    me = browser()
    answer = me.post("/files", files=[("files", ("big.py", b"#" * (8 * 1024 * 1024 + 10), "text/x-python"))],
                     headers=EN)
    assert answer.status_code == 413 and "larger than 8 MB" in answer.text
    assert _files(tx, me.email) == 0


def _files(tx, email):
    with tx() as cur:
        cur.execute("SELECT count(*) FROM code_check.files f JOIN code_check.users u ON u.id = f.user_id "
                    "WHERE u.email = %s", (email,))
        return cur.fetchone()[0]


def _confirmed(tx, email):
    with tx() as cur:
        cur.execute("SELECT confirmed_at IS NOT NULL FROM code_check.users WHERE email = %s", (email,))
        return cur.fetchone()[0]


def _user_id(tx, email):
    with tx() as cur:
        cur.execute("SELECT id FROM code_check.users WHERE email = %s", (email,))
        return cur.fetchone()[0]


def _email(tx, user_id):
    with tx() as cur:
        cur.execute("SELECT email FROM code_check.users WHERE id = %s", (user_id,))
        return cur.fetchone()[0]
