"""Full-text search over imported messages: Russian word forms, English stems, ranking, highlighting, filters,
the API's q= parameter, and one account never seeing another's mail."""
import base64

import pytest

from common import web
from common.db import pg_transaction
from functions.mail_import.chalicelib.web import search


def letter(n, subject, body, date, attachment=False, sender="Иван Петров <ivan@example.ru>"):
    head = (f"From: {sender}\r\nTo: Ольга <olga@example.ru>\r\nSubject: =?utf-8?b?"
            + base64.b64encode(subject.encode()).decode() + "?=\r\n"
            f"Message-ID: <search-{n}@example.ru>\r\nDate: {date}\r\nMIME-Version: 1.0\r\n")
    text = "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body + "\r\n"
    if not attachment:
        return (head + text).encode()
    return (head + 'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n' + text
            + '--b\r\nContent-Type: application/pdf; name="report.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
            + "JVBERi0xLjQK\r\n--b--\r\n").encode()


LETTERS = [
    letter(1, "Квартальный отчёт", "Направляю отчёта черновик, посмотрите цифры.", "Mon, 6 Jan 2025 10:00:00 +0300",
           attachment=True),
    letter(2, "Обед", "Пойдём обедать в час? Отчётов сегодня не будет.", "Tue, 4 Mar 2025 12:00:00 +0300"),
    letter(3, "Quarterly reports", "The reporting period ends on Friday; the report is attached.",
           "Wed, 2 Apr 2025 09:00:00 +0000", attachment=True, sender="Jane Roe <jane@example.com>"),
    letter(4, "Счёт на оплату", "Счёт №15 за услуги связи.", "Thu, 1 May 2025 09:00:00 +0300"),
    letter(5, "Re: отчёт", "Спасибо, отчёт получил.", "Fri, 6 Jun 2025 09:00:00 +0300"),
]


@pytest.fixture(scope="module")
def searchable(dovecot, new_account, run_import, run_indexer):
    mailbox = dovecot.new_mailbox("search")
    mailbox.fill("INBOX", LETTERS)
    account_id, token = new_account(mailbox)
    assert run_import(account_id).job["imported"] == len(LETTERS)
    other = dovecot.new_mailbox("other")
    other.fill("INBOX", [letter(99, "Чужой отчёт", "Отчёт другого клиента.", "Mon, 6 Jan 2025 10:00:00 +0300")])
    other_id, _ = new_account(other)
    assert run_import(other_id).job["imported"] == 1
    run_indexer()           # what the index function does right after the imports' commits
    return account_id, token


def subjects(found):
    return [row["subject"] for row in found]


def test_russian_word_forms_match(searchable):
    found = search.run(searchable[0], search.parse({"q": "отчёт"}))
    # "отчёт" finds "отчёта", "Отчётов" and "отчёт"; the subject match ranks first; no other account's letter.
    assert set(subjects(found)) == {"Квартальный отчёт", "Обед", "Re: отчёт"}
    assert found[0]["subject"] in ("Квартальный отчёт", "Re: отчёт")
    assert "Чужой отчёт" not in subjects(found)
    assert search.run(searchable[0], search.parse({"q": "отчет"})) != []  # ё typed as е


def test_english_stems_match_and_matches_are_highlighted(searchable):
    found = search.run(searchable[0], search.parse({"q": "report"}))
    assert subjects(found) == ["Quarterly reports"]
    marked = [part["text"] for part in found[0]["highlight"]["subject"] if part["match"]]
    assert marked == ["reports"]
    assert [p["text"] for p in found[0]["highlight"]["text"] if p["match"]] == ["reporting", "report"]


def test_sender_and_recipient_addresses_are_searchable(searchable):
    assert subjects(search.run(searchable[0], search.parse({"q": "jane@example.com"}))) == ["Quarterly reports"]
    assert len(search.run(searchable[0], search.parse({"q": "Ольга"}))) == len(LETTERS)


def test_filters_by_date_range_and_attachments(searchable):
    account_id = searchable[0]
    assert subjects(search.run(account_id, search.parse({"q": "отчёт", "from": "2025-03-01", "to": "2025-06-05"}))) \
        == ["Обед"]
    assert subjects(search.run(account_id, search.parse({"q": "отчёт", "attachments": "1"}))) \
        == ["Квартальный отчёт"]
    either = {"q": "отчёт OR report", "attachments": "1", "from": "2025-01-07"}
    assert subjects(search.run(account_id, search.parse(either))) == ["Quarterly reports"]


def test_phrases_and_exclusions_follow_web_search_syntax(searchable):
    assert subjects(search.run(searchable[0], search.parse({"q": "отчёт -обед"}))) != []
    assert "Обед" not in subjects(search.run(searchable[0], search.parse({"q": "отчёт -обедать"})))
    assert subjects(search.run(searchable[0], search.parse({"q": '"услуги связи"'}))) == ["Счёт на оплату"]


@pytest.mark.parametrize("params, field", [
    ({"q": ""}, "q"), ({"q": "x" * 501}, "q"), ({"q": "a", "from": "yesterday"}, "from"),
    ({"q": "a", "to": "2025-13-01"}, "to"), ({"q": "a", "attachments": "maybe"}, "attachments"),
    ({"q": "a", "limit": "-1"}, "limit"), ({"q": "a", "limit": "101"}, "limit"), ({"q": "a", "offset": "x"}, "offset"),
])
def test_bad_search_parameters_are_a_400_naming_the_field(params, field):
    with pytest.raises(web.AppError) as raised:
        search.parse(params)
    assert raised.value.status == 400 and raised.value.fields.get("field") == field


def test_the_messages_api_searches_with_q(searchable, app_module):
    from chalice.test import Client
    account_id, token = searchable
    with Client(app_module.app) as client:
        auth = {"Authorization": f"Bearer {token}"}
        found = client.http.get(f"/api/accounts/{account_id}/messages?q=%D0%BE%D1%82%D1%87%D1%91%D1%82&attachments=1",
                                headers=auth)
        bad = client.http.get(f"/api/accounts/{account_id}/messages?q=", headers=auth)
        foreign = client.http.get(f"/api/accounts/{account_id}/messages?q=x", headers={"Authorization": "Bearer no"})
    assert found.status_code == 200 and [m["subject"] for m in found.json_body["messages"]] == ["Квартальный отчёт"]
    assert bad.status_code == 400 and bad.json_body["field"] == "q"
    assert foreign.status_code == 404


def newest_matches(account_id, params, monkeypatch, window, candidates, margin):
    monkeypatch.setattr(search, "WINDOW", window)
    monkeypatch.setattr(search, "ATTACHMENTS_WINDOW", window)
    monkeypatch.setattr(search, "CANDIDATES", candidates)
    monkeypatch.setattr(search, "SLICE_MARGIN", margin)
    s = search.parse(params)
    with pg_transaction() as cur:
        return search.candidates(cur, {"q": s.text, "account": account_id, "since": s.since, "until": s.until,
                                       "attachments": s.attachments, "candidates": candidates})


@pytest.mark.parametrize("params", [{"q": "Ольга"}, {"q": "отчёт"}, {"q": "Ольга", "from": "2025-03-01"},
                                    {"q": "Ольга", "to": "2025-05-31"}, {"q": "Ольга", "attachments": "1"},
                                    {"q": "Ольга", "from": "2025-01-07", "to": "2025-05-01"}])
def test_the_index_steps_find_the_same_newest_matches_as_the_walk(searchable, monkeypatch, params):
    # The walk alone (a window larger than the mailbox) gives the newest matches; a window of one or two
    # messages makes the GIN index find the rest: in a time slice (whose width the margin sets), then older.
    every = newest_matches(searchable[0], params, monkeypatch, 100, 100, 2)
    assert every and [message_id for message_id, _ in every] == sorted((i for i, _ in every), reverse=True)
    for window in (1, 2, 3):
        for candidates in range(1, len(every) + 2):
            for margin in (0.1, 2, 1000):
                found = newest_matches(searchable[0], params, monkeypatch, window, candidates, margin)
                assert found == every[:candidates], (window, candidates, margin)


def test_a_search_that_runs_too_long_is_a_503(searchable, monkeypatch):
    from functions.mail_import.chalicelib import queries
    monkeypatch.setattr(queries, "SEARCH_RECENT", "SELECT pg_sleep(30), %(q)s")
    monkeypatch.setattr(search, "TIMEOUT_MS", 50)
    with pytest.raises(web.AppError) as raised:
        search.run(searchable[0], search.parse({"q": "отчёт"}))
    assert raised.value.status == 503
    monkeypatch.undo()  # the connection is usable again, the timeout gone with the transaction
    assert subjects(search.run(searchable[0], search.parse({"q": "счёт"}))) == ["Счёт на оплату"]
