"""Which folders (issue 22, item 6): the server's folder list with special-use flags is offered (POST
/api/folders, the form's "show the folders"), everything but Trash, Spam and Junk ticked; an account that names
no folders imports those; a message in several folders (Gmail labels) is stored once."""
from types import SimpleNamespace
from urllib.parse import urlencode

from chalice.test import Client
from mail_import_corpus import make_message

from functions.mail_import.chalicelib.engine import imap_session
from mail_import_support import ALL_MAIL

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def session_listing(*folders):
    """A Session over a client whose LIST answers `folders` ((flags, name), "/" as the separator)."""
    client = SimpleNamespace(_imap=SimpleNamespace(_new_tag=lambda: b"A1", debug=0),
                             list_folders=lambda: [(flags, b"/", name) for flags, name in folders])
    return imap_session.Session(client)


YANDEX = [((b"\\HasNoChildren",), "INBOX"), ((b"\\HasNoChildren", b"\\Sent"), "Отправленные"),
          ((b"\\HasNoChildren", b"\\Trash"), "Удалённые"), ((b"\\HasNoChildren", b"\\Junk"), "Спам"),
          ((b"\\HasNoChildren", b"\\Drafts"), "Черновики"), ((b"\\HasNoChildren",), "Работа/Проекты"),
          ((b"\\HasNoChildren",), "Spam"), ((b"\\Noselect", b"\\HasChildren"), "Работа")]
GMAIL = [((b"\\HasNoChildren",), "INBOX"), ((b"\\Noselect", b"\\HasChildren"), "[Gmail]"),
         ((b"\\HasNoChildren", b"\\Sent"), "[Gmail]/Sent Mail"), ((b"\\HasNoChildren", b"\\Trash"), "[Gmail]/Bin"),
         ((b"\\HasNoChildren", b"\\Junk"), "[Gmail]/Spam"), ((b"\\HasNoChildren", b"\\All"), "[Gmail]/All Mail"),
         ((b"\\HasNoChildren",), "Receipts")]


def test_every_folder_but_trash_spam_and_junk_is_imported_when_none_is_named():
    listed = session_listing(*YANDEX).folder_list()
    assert [(f["name"], f["special"], f["checked"]) for f in listed] == [
        ("INBOX", None, True), ("Отправленные", "\\Sent", True), ("Удалённые", "\\Trash", False),
        ("Спам", "\\Junk", False), ("Черновики", "\\Drafts", True), ("Работа/Проекты", None, True),
        ("Spam", None, False)]                          # "Работа" cannot be selected (\Noselect): not offered
    assert session_listing(*YANDEX).default_folders() == ["INBOX", "Отправленные", "Черновики", "Работа/Проекты"]


def test_gmail_offers_its_labels_with_all_mail_first_and_imports_all_mail_when_none_is_named():
    listed = session_listing(*GMAIL).folder_list()
    assert [f["name"] for f in listed] == ["[Gmail]/All Mail", "INBOX", "[Gmail]/Sent Mail", "[Gmail]/Bin",
                                           "[Gmail]/Spam", "Receipts"]
    assert [f["name"] for f in listed if not f["checked"]] == ["[Gmail]/Bin", "[Gmail]/Spam"]
    assert session_listing(*GMAIL).default_folders() == ["[Gmail]/All Mail"]


def test_the_api_lists_a_real_servers_folders_after_checking_the_login(app_module, dovecot, db):
    mailbox = dovecot.new_mailbox("folders")
    for folder in (ALL_MAIL, "Sent", "Trash", "Spam", "Проекты"):
        mailbox.fill(folder, [make_message(1, False)])
    with Client(app_module.app) as client:
        listed = client.http.post("/api/folders", headers=FORM, body=urlencode(mailbox.account_input()))
        refused = client.http.post("/api/folders", headers=FORM,
                                   body=urlencode(mailbox.account_input(password="wrong")))
    assert listed.status_code == 200
    folders = {f["name"]: f["checked"] for f in listed.json_body["folders"]}
    assert folders == {ALL_MAIL: True, "INBOX": True, "Sent": True, "Trash": False, "Spam": False, "Проекты": True}
    assert listed.json_body["folders"][0] == {"name": ALL_MAIL, "special": "\\All", "checked": True}
    assert refused.status_code == 400 and refused.json_body["field"] == "password"
    assert db("SELECT count(*) FROM mail_import.accounts WHERE login = %s", mailbox.login) == [(0,)]   # nothing stored


def test_a_message_in_several_folders_is_stored_once_with_its_folder(dovecot, new_account, run_import, db):
    mailbox = dovecot.new_mailbox("labels")
    shared, inbox_only, sent_only = make_message(1, False), make_message(2, False), make_message(3, False)
    mailbox.fill("INBOX", [shared, inbox_only])
    mailbox.fill("Sent", [shared, sent_only])
    account_id, _ = new_account(mailbox, folders="INBOX\nSent")
    assert run_import(account_id).job["state"] == "done"
    rows = db("SELECT folder, count(*) FROM mail_import.messages WHERE account_id = %s GROUP BY folder ORDER BY 1",
              account_id)
    assert rows == [("INBOX", 2), ("Sent", 1)]
