"""Through the local cloud with its real minute schedule (sped up), SQS, SES and the DLQ."""
import json
import re
import time

import boto3
import pytest

from code_check_helpers import FUNCTIONS, sent_mail, tick


@pytest.fixture(scope="module")
def scheduled_cloud(start_cloud):
    """The product with its schedule firing every 3 s instead of every minute; stopped after this module so
    that it never ticks another test's uploads."""
    cloud = start_cloud(functions=FUNCTIONS, rate_scale=0.05)
    yield cloud
    cloud.stop()


def wait_for(page, url, text, timeout=90):
    deadline = time.time() + timeout
    while time.time() < deadline:
        page.goto(url)
        if text in page.content():
            return
        time.sleep(1)
    raise AssertionError(f"{text!r} never appeared on {url}:\n{page.content()[-3000:]}")


def test_register_upload_tick_report_in_chromium(scheduled_cloud, chromium, aws_endpoint):
    base = scheduled_cloud.api_url("CodeCheckApi")
    page = chromium.new_page(locale="ru-RU")
    email = f"chromium.{int(time.time() * 1000)}@test.example"
    page.goto(base + "/register")
    page.fill("#email", email)
    page.fill("#password", "browser pass 2026!")
    page.click("button[type=submit]")
    page.wait_for_selector("#files")
    assert "Ваши файлы" in page.content() and "не подтверждён" in page.inner_text("#unconfirmed")
    # The confirmation link from the e-mail: a page with a button, then the address is confirmed.
    link = next(m for m in sent_mail(aws_endpoint) if email in m["destinations"]["ToAddresses"])["body"]
    url = re.search(r"(\S+/confirm\?token=[A-Za-z0-9_.-]+)", link).group(1)
    assert url.startswith(base + "/")     # followed as the e-mail gives it
    page.goto(url)
    page.click("#confirm")
    assert email in page.inner_text("#confirmed")
    page.goto(base + "/")
    assert page.locator("#unconfirmed").count() == 0

    page.set_input_files("#files", [
        {"name": "shop.py", "mimeType": "text/x-python", "buffer": b"import os\nprice=10\nname = 'x' \n"},
        {"name": "clean.py", "mimeType": "application/octet-stream", "buffer": b'"""Clean."""\n'},
        {"name": "photo.py", "mimeType": "text/x-python", "buffer": b"\x89PNG\r\n\x1a\n\x00\x00"},
    ])
    page.click("form[enctype] button[type=submit]")
    page.wait_for_selector("#upload-results")
    results = page.inner_text("#upload-results")
    assert "shop.py: загружен как новый файл" in results and "photo.py: файл не является текстом" in results
    page.click("#files a >> text=shop.py")
    file_url = page.url
    wait_for(page, file_url, "письмо отправлено")
    cards = page.locator("#violations [data-line]")
    assert cards.count() == 3
    assert page.inner_text("#violations [data-line='2'] pre") == "price=10"
    assert "E225" in page.inner_text("#violations [data-line='2']")
    assert page.locator("#violations .b-new").count() == 3

    # Version 2: E225 fixed, W291 stays (on another line now), a new E231.
    page.goto(base + "/")
    page.set_input_files("#files", [{"name": "shop.py", "mimeType": "text/x-python",
                                     "buffer": b"import os\n\nprice = 10\nname = 'x' \nsizes = [1,2]\n"}])
    page.click("form[enctype] button[type=submit]")
    page.wait_for_selector("#upload-results")
    assert "загружен как версия 2" in page.inner_text("#upload-results")
    wait_for(page, file_url, "письмо отправлено")
    assert "По сравнению с версией 1" in page.inner_text("#summary")
    assert "E231" in page.inner_text("#violations .b-new >> xpath=..")
    assert page.locator("#violations .b-new").count() == 1
    assert page.locator("#violations .b-remaining").count() == 2
    fixed = page.inner_text("#fixed")
    assert "E225" in fixed and "price=10" in fixed
    # Version 1 and its check stay viewable.
    page.click("#versions a >> text='1'")
    assert page.locator("#violations .b-new").count() == 3
    mails = [m for m in sent_mail(aws_endpoint) if email in m["destinations"]["ToAddresses"]]
    # Registered from a Russian browser: the reports are in Russian (issue 22), the platform's words first.
    assert sorted(m["subject"] for m in mails) == [
        "code_check: confirm your e-mail address / подтвердите адрес",
        "Отчёт code_check: проблем 3 (новых 1): версия 2 файла shop.py",
        "Отчёт code_check: проблем 3 (новых 3): версия 1 файла shop.py",
        "Отчёт code_check: проблем нет: версия 1 файла clean.py"]
    report = next(m for m in mails if "версия 2" in m["subject"])["body"]
    assert "Новые проблемы" in report and "New problems" not in report
    page.close()


def test_failing_ses_is_retried_then_given_up_and_the_page_says_why(cc_cloud, browser, tx):
    """SES refusing every call: the report's e-mail is tried CODE_CHECK_EMAIL_ATTEMPTS (5) times with backoff,
    then given up for good ('no email' with the reason), and its message leaves the queue, not for the DLQ."""
    sender = "code-check@example.com"
    ses = boto3.client("ses")
    ses.delete_identity(Identity=sender)
    try:
        me = browser()
        me.upload(("unsent.py", b"x=1\n"))
        file_id = me.file_id("unsent.py")
        tick(cc_cloud)
        deadline, row = time.time() + 120, None
        while time.time() < deadline:
            with tx() as cur:
                cur.execute("""SELECT c.email_state, c.email_attempts, c.email_error FROM code_check.checks c
                               JOIN code_check.versions v ON v.id = c.version_id WHERE v.file_id = %s
                               ORDER BY c.id DESC LIMIT 1""", (file_id,))
                row = cur.fetchone()
            if row and row[0] == "none":
                tick(cc_cloud)      # the checker itself failed (a loaded machine): the next tick checks it again
            elif row and row[0] not in ("pending", "claimed"):
                break
            time.sleep(0.5)
    finally:
        ses.verify_email_identity(EmailAddress=sender)
    assert row == ("skipped", 5, "the e-mail could not be sent after repeated attempts")
    page = me.get(f"/files/{file_id}", headers={"Accept-Language": "en"}).text
    assert "no email" in page and "could not be sent after repeated attempts" in page and "email sent<" not in page
    assert "не удалось отправить после нескольких попыток" in me.get(f"/files/{file_id}").text
    dlq = cc_cloud.physical_id("CodeCheckReportsDeadLetterQueue")
    got = boto3.client("sqs").receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    assert not [m for m in got.get("Messages", []) if _check_of(tx, json.loads(m["Body"])["check_id"]) == file_id]


def _check_of(tx, check_id):
    with tx() as cur:
        cur.execute("""SELECT v.file_id FROM code_check.checks c JOIN code_check.versions v ON v.id = c.version_id
                       WHERE c.id = %s""", (check_id,))
        row = cur.fetchone()
        return row and row[0]


def test_swagger_ui_renders_offline_under_the_page_policy(cc_cloud, chromium):
    base = cc_cloud.api_url("CodeCheckApi")
    page = chromium.new_page()
    outside = []
    page.on("request", lambda request: outside.append(request.url) if not request.url.startswith(base)
            and not request.url.startswith("data:") else None)
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(base + "/api/doc")
    page.wait_for_selector(".opblock-summary-path", timeout=30000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/files" in paths and "/api/files/{file_id}/versions/{version}" in paths
    assert outside == [] and not [e for e in errors if "Content Security Policy" in e]
    page.close()
