"""The messages page in headless Chromium: the form, live progress, rows, reload mid-import, a second tab."""
import re

import pytest
import requests
from mail_import_corpus import make_message

from mail_import_support import FUNCTIONS
from waiting import wait_until

MESSAGES = 400
LIVE = 200        # rows the page keeps in the DOM (web.pages.LIVE_ROWS)
SCREENSHOT = "/tmp/mail_import_page.png"

# Records every state the progress box shows, from the first paint on, without touching the page's code.
WATCH_PROGRESS = """
window.__progress = [];
document.addEventListener("DOMContentLoaded", () => {
  const phase = document.getElementById("phase"), counter = document.getElementById("counter");
  if (!phase) return;
  const note = () => window.__progress.push([phase.textContent, counter.textContent,
                                             document.querySelectorAll("#messages tbody tr").length]);
  note();
  new MutationObserver(note).observe(document.getElementById("progress"),
                                     { childList: true, subtree: true, characterData: true });
});
"""


@pytest.fixture(scope="module")
def slow_cloud(start_cloud):
    # Small chunks: the import goes through the queue chunk after chunk, slow enough to watch and reload.
    return start_cloud(functions=FUNCTIONS, env={"MAIL_IMPORT_CHUNK_MESSAGES": "40", "MAIL_IMPORT_BATCH": "10"})


def remaining_values(log):
    values = []
    for phase, counter, _rows in log:
        match = re.search(r"осталось (\d+) из (\d+)", counter)
        if phase == "Получение сообщений" and match:
            values.append(int(match.group(1)))
    return values


def test_the_page_shows_the_import_live_and_survives_a_reload(dovecot, slow_cloud, chromium, db):
    mailbox = dovecot.new_mailbox("browser")
    mailbox.fill("INBOX", [make_message(20000 + i, i % 10 == 0) for i in range(MESSAGES)])
    api = slow_cloud.api_url("MailImportApi")
    context = chromium.new_context(viewport={"width": 1500, "height": 900}, locale="ru-RU")
    context.add_init_script(WATCH_PROGRESS)
    page = context.new_page()
    page_errors = []
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))

    page.goto(f"{api}/")
    page.select_option("#provider", "custom")
    page.fill("#host", mailbox.host)
    page.fill("#port", str(mailbox.port))
    page.uncheck("input[name=ssl]")
    page.fill("#login", mailbox.login)
    page.fill("#password", mailbox.password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/\d+"))

    first = page.evaluate("window.__progress")
    assert first[0][0] == "Чтение сообщений"                      # the import starts by itself
    wait_until(lambda: 0 < page.locator("#messages tbody tr").count() < MESSAGES
               and page.text_content("#phase") == "Получение сообщений", what="rows arriving")
    before_reload = page.evaluate("window.__progress")
    page.screenshot(path=SCREENSHOT.replace(".png", "_progress.png"))

    page.reload()                                                   # mid-import
    after_reload = page.evaluate("window.__progress")[0]
    assert after_reload[0] in ("Получение сообщений", "Импорт завершён")
    assert after_reload[2] > 0                                      # the rows so far are drawn at once
    second = context.new_page()                                     # another tab (same cookie)
    second.goto(page.url.split("?")[0])
    assert second.text_content("#phase") in ("Чтение сообщений", "Получение сообщений", "Импорт завершён")

    for tab in (page, second):
        # Polled from here: the page's CSP (no eval) forbids wait_for_function's in-page predicate.
        wait_until(lambda: tab.text_content("#phase") == "Импорт завершён", timeout=90, what="import finished")
        wait_until(lambda: tab.evaluate("document.querySelectorAll('#messages tbody tr').length") == LIVE,
                   timeout=30, what="the newest rows shown")
        wait_until(lambda: tab.text_content("#count") == str(MESSAGES), timeout=30, what="every row counted")
    countdown = remaining_values(before_reload) + remaining_values(page.evaluate("window.__progress"))
    assert len(set(countdown)) >= 3 and countdown == sorted(countdown, reverse=True)
    assert "Чтение сообщений" in [p for p, _c, _r in first]
    # The DOM stays bounded while rows stream in: never more than LIVE rows, whatever the count.
    assert max(rows for _p, _c, rows in before_reload + page.evaluate("window.__progress")) <= LIVE
    uids = page.eval_on_selector_all("#messages tbody tr", "rows => rows.map(r => Number(r.dataset.uid))")
    assert uids == list(range(MESSAGES, MESSAGES - LIVE, -1))
    links = page.locator("#messages tbody td.att a")
    assert links.count() == LIVE // 10
    download = page.request.get(links.first.evaluate("a => a.href"))
    assert download.status == 200 and len(download.body()) > 50_000
    page.screenshot(path=SCREENSHOT)

    page.click("#older")                                            # older rows come page by page from the API
    wait_until(lambda: page.evaluate("document.querySelector('#messages tbody tr').dataset.uid") == str(
        MESSAGES - LIVE), what="the older page")
    older = page.eval_on_selector_all("#messages tbody tr", "rows => rows.map(r => Number(r.dataset.uid))")
    assert older == list(range(MESSAGES - LIVE, 0, -1)) and page.is_visible("#newest")
    page.click("#newest")
    wait_until(lambda: page.evaluate("document.querySelector('#messages tbody tr').dataset.uid") == str(MESSAGES),
               what="back to the newest rows")

    # Search sees what the index function has indexed (it runs after the import's commits): wait for it.
    account_id = int(re.search(r"/accounts/(\d+)", page.url).group(1))
    wait_until(lambda: db("SELECT count(*) FROM mail_import.message_search WHERE account_id = %s",
                          account_id)[0][0] == MESSAGES, what="every message indexed for search")
    newest = f"№{20000 + MESSAGES - 1}"                              # the newest message's subject ends so
    page.fill("#q", newest)                                         # the search box
    page.click("#search-form button[type=submit]")
    wait_until(lambda: page.text_content("#search-status").startswith("найдено"), what="search results")
    first_subject = page.locator("#messages tbody td.subject a").first
    assert newest in first_subject.text_content()
    assert first_subject.locator("mark").first.text_content() == newest[1:]
    account_url = page.url.split("?")[0]
    first_subject.click()                                           # the message page
    page.wait_for_selector("#subject")
    assert newest in page.text_content("#subject") and page.is_visible("iframe#body")
    assert not page_errors
    cookies = context.cookies()
    context.close()

    english = chromium.new_context(locale="en-US")                  # the same page for a reader preferring English
    english.add_cookies(cookies)
    tab = english.new_page()
    tab.on("pageerror", lambda exc: page_errors.append(str(exc)))
    tab.goto(account_url)
    wait_until(lambda: tab.text_content("#phase") == "Import finished", what="English progress")
    assert tab.evaluate("document.documentElement.lang") == "en"
    assert "Subject" in tab.text_content("#messages thead") and "Тема" not in tab.text_content("#messages thead")
    assert tab.text_content("#counter").startswith("new messages: ")
    assert not page_errors
    english.close()


def test_a_job_whose_worker_died_says_it_is_retrying_in_both_languages(dovecot, slow_cloud, chromium, db):
    api = slow_cloud.api_url("MailImportApi")
    mailbox = dovecot.new_mailbox("interrupted")
    created = requests.post(f"{api}/api/accounts", json=mailbox.account_input(), timeout=30).json()
    # A running job whose chunk's holder stopped renewing its lease (killed) and whose retry has not come yet.
    db("INSERT INTO mail_import.jobs (account_id, state, phase, total, remaining, lease_owner, lease_until) "
       "VALUES (%s, 'running', 'receiving', 100, 60, gen_random_uuid(), now() - interval '1 second')", created["id"])
    try:
        for locale, text in (("ru-RU", "Импорт прервался, повторяем"), ("en-GB", "Retrying after an interruption")):
            context = chromium.new_context(locale=locale)
            page = context.new_page()
            page.goto(f"{api}/accounts/{created['id']}?token={created['token']}")
            wait_until(lambda: page.text_content("#phase") == text, 10, f"the {locale} page saying it is retrying")
            context.close()
    finally:
        db("UPDATE mail_import.jobs SET state = 'superseded', lease_owner = NULL WHERE account_id = %s", created["id"])


def _fill_form(page, mailbox, password=None):
    page.select_option("#provider", "custom")
    page.fill("#host", mailbox.host)
    page.fill("#port", str(mailbox.port))
    page.uncheck("input[name=ssl]")
    page.fill("#login", mailbox.login)
    page.fill("#password", password or mailbox.password)


def test_the_form_offers_the_mailboxs_folders_with_trash_and_spam_unticked(dovecot, slow_cloud, chromium, db):
    api = slow_cloud.api_url("MailImportApi")
    mailbox = dovecot.new_mailbox("folder form")
    for folder in ("Sent", "Trash", "Spam"):
        mailbox.fill(folder, [make_message(30000 + i, False) for i in range(2)])
    for locale, button, failed in (("en-GB", "Show the mailbox's folders", "The folders could not be read: "),
                                   ("ru-RU", "Показать папки ящика", "Не удалось прочитать папки: ")):
        context = chromium.new_context(locale=locale)
        page = context.new_page()
        page.goto(f"{api}/")
        _fill_form(page, mailbox, password="wrong")
        assert page.text_content("#show-folders") == button
        page.click("#show-folders")
        wait_until(lambda: page.is_visible("#folders-error"), 20, "the refused login")
        assert page.text_content("#folders-error").startswith(failed)
        page.fill("#password", mailbox.password)
        page.click("#show-folders")
        page.wait_for_selector("#folder-list label.folder")
        ticks = {box.get_attribute("value"): box.is_checked() for box in page.query_selector_all("#folder-list input")}
        assert ticks == {"INBOX": True, "Sent": True, "Trash": False, "Spam": False}
        assert page.input_value("#folders") == "INBOX\nSent"
        if locale == "ru-RU":
            page.uncheck('#folder-list input[value="Sent"]')
            page.check('#folder-list input[value="Trash"]')
            page.screenshot(path=SCREENSHOT.replace(".png", "_folders.png"))
            page.click("button[type=submit]")
            page.wait_for_url(re.compile(r"/accounts/\d+"))
        context.close()
    assert db("SELECT folders FROM mail_import.accounts WHERE login = %s", mailbox.login) == [(["INBOX", "Trash"],)]


def test_an_import_is_cancelled_from_the_page_and_resumed_later(dovecot, slow_cloud, chromium, db):
    api = slow_cloud.api_url("MailImportApi")
    mailbox = dovecot.new_mailbox("cancel page")
    mailbox.fill("INBOX", [make_message(40000 + i, False) for i in range(MESSAGES)])
    context = chromium.new_context(locale="ru-RU")
    page = context.new_page()
    page.goto(f"{api}/")
    _fill_form(page, mailbox)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/\d+"))
    account_id = int(page.url.rsplit("/", 1)[1])
    wait_until(lambda: page.text_content("#phase") == "Получение сообщений", what="the import receiving")
    page.click("#cancel-import")
    wait_until(lambda: page.text_content("#phase") == "Импорт отменён", 60, "the import cancelled")
    imported, total = map(int, re.fullmatch(r"импортировано (\d+) из (\d+)", page.text_content("#counter")).groups())
    assert 0 < imported < total == MESSAGES and page.is_visible("#resume-import")
    assert db("SELECT count(*) FROM mail_import.messages WHERE account_id = %s", account_id) == [(imported,)]

    page.reload()                                                    # a reload does not start it again
    assert page.text_content("#phase") == "Импорт отменён"
    english = chromium.new_context(locale="en-GB")
    english.add_cookies(context.cookies())
    tab = english.new_page()
    tab.goto(page.url)
    assert tab.text_content("#phase") == "Import cancelled"
    assert tab.text_content("#counter") == f"{imported} of {MESSAGES} imported"
    english.close()

    page.click("#resume-import")
    wait_until(lambda: page.text_content("#phase") == "Импорт завершён", 120, "the resumed import")
    assert db("SELECT count(*), count(DISTINCT uid) FROM mail_import.messages WHERE account_id = %s",
              account_id) == [(MESSAGES, MESSAGES)]
    context.close()


def test_a_mailbox_is_deleted_from_its_page_and_leaves_the_start_page(dovecot, slow_cloud, chromium, db):
    api = slow_cloud.api_url("MailImportApi")
    mailbox = dovecot.new_mailbox("delete page")
    mailbox.fill("INBOX", [make_message(50000 + i, i % 4 == 0) for i in range(20)])
    context = chromium.new_context(locale="ru-RU")
    page = context.new_page()
    page.goto(f"{api}/")
    _fill_form(page, mailbox)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/\d+"))
    account_id = int(page.url.rsplit("/", 1)[1])
    wait_until(lambda: page.text_content("#phase") == "Импорт завершён", 60, "the import")
    page.goto(f"{api}/")
    assert mailbox.login in page.text_content("#my-mailboxes")           # listed from this browser's cookie
    page.click(f'#my-mailboxes a[href$="/accounts/{account_id}"]')
    page.check("#delete-mailbox input[name=confirm]")
    page.click("#delete-button")
    page.wait_for_selector("#deleted")
    text = page.text_content("#deleted")
    assert f"Ящик {mailbox.login} удаляется" in text and "Писем: 20" in text and "Вложений: 5" in text
    wait_until(lambda: db("SELECT count(*) FROM mail_import.accounts WHERE id = %s", account_id) == [(0,)], 60,
               "the queued deletion")
    assert db("SELECT count(*) FROM mail_import.messages WHERE account_id = %s", account_id) == [(0,)]
    page.goto(f"{api}/")
    assert page.locator("#my-mailboxes").count() == 0
    assert page.goto(f"{api}/accounts/{account_id}").status == 404
    context.close()
