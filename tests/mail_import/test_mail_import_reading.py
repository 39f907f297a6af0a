"""Phase 1, "reading", shows real work on every import path (issue 22, item 7): the messages it looked at are
counted over the job's folders and pushed to the page as they are, and the page says "Checked N messages" in
the reader's language and plural forms."""
import json

import pytest
from mail_import_corpus import make_message

from functions.mail_import.chalicelib.engine import progress
from functions.mail_import.chalicelib.web import pages


def numbered(count, start=0):
    return [make_message(i, False) for i in range(start, start + count)]


@pytest.fixture
def pushed(monkeypatch):
    """Every progress event an import hands to its page notifier."""
    events = []
    original = progress.Notifier.progress

    def record(self, event):
        events.append(dict(event))
        original(self, event)
    monkeypatch.setattr(progress.Notifier, "progress", record)
    return events


def reading(events):
    return [(e["folder"], e["checked"]) for e in events if e.get("phase") == "reading" and e.get("checked")]


def test_a_first_import_and_a_sync_count_the_messages_they_looked_at(dovecot, new_account, run_import, pushed):
    mailbox = dovecot.new_mailbox("reading")
    mailbox.fill("INBOX", numbered(12))
    mailbox.fill("Sent", numbered(5, start=100))
    account_id, _ = new_account(mailbox, folders="INBOX\nSent")

    first = run_import(account_id).job
    assert first["state"] == "done" and first["imported"] == 17
    assert reading(pushed) == [("INBOX", 12), ("Sent", 17)]       # summed over the job's folders
    assert first["checked"] == 17 and progress.job_event(first)["checked"] == 17

    pushed.clear()
    mailbox.fill("Sent", numbered(3, start=200))
    synced = run_import(account_id).job
    assert synced["imported"] == 3 and synced["checked"] == 3
    assert reading(pushed) == [("Sent", 3)]


@pytest.mark.parametrize("language, forms", [
    ("ru", ["Проверено %(n)s письмо", "Проверено %(n)s письма", "Проверено %(n)s писем"]),
    ("en", ["Checked %(n)s message", "Checked %(n)s messages", "Checked %(n)s messages"]),
])
def test_the_page_says_checked_n_messages_in_the_readers_plural_forms(language, forms):
    account = {"id": 1, "login": "me", "host": "h", "port": 993, "provider": "custom", "status": "ok",
               "error": None, "error_message": None, "sync_minutes": None}
    html = pages.account("", language, account, "t", "ws://x", None, [], 0, None)
    for form in forms:
        assert json.dumps(form)[1:-1] in html       # in the page's TEXT object (tojson: \uXXXX escapes)
    assert "PluralRules" in html and "checkedText(job.checked" in html
