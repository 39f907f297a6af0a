"""The search index is filled after the import, by indexing requests: nothing stored twice on redelivery,
bounded requests that chain, a request lost after a commit covered by the job's last one, and one text
search configuration that still finds Russian word forms and English stems."""
import pytest

from functions.mail_import.chalicelib import settings
from functions.mail_import.chalicelib.engine import indexer
from functions.mail_import.chalicelib.web import search


def letter(n, subject, body):
    return (f"From: Jane Roe <jane-{n}@example.com>\r\nTo: Иван <ivan@example.ru>\r\nSubject: {subject}\r\n"
            f"Message-ID: <index-{n}@example.ru>\r\nDate: Mon, 6 Jan 2025 10:00:{n:02d} +0000\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            f"{body}\r\n").encode()


def indexed(db, account_id):
    return db("SELECT count(*) FROM mail_import.message_search WHERE account_id = %s", account_id)[0][0]


def imported(dovecot, new_account, run_import, name, letters):
    mailbox = dovecot.new_mailbox(name)
    mailbox.fill("INBOX", letters)
    account_id, _token = new_account(mailbox)
    assert run_import(account_id).job["imported"] == len(letters)
    return account_id


def test_a_message_is_searchable_once_indexed_and_a_redelivered_request_stores_nothing_twice(
        dovecot, new_account, run_import, run_indexer, db):
    account_id = imported(dovecot, new_account, run_import, "index-once",
                          [letter(n, f"Invoice {n}", "Счёт за услуги связи.") for n in range(1, 6)])
    # The import's commits leave the vectors to the indexer: nothing is found before it runs.
    assert indexed(db, account_id) == 0
    assert search.run(account_id, search.parse({"q": "invoice"})) == []
    requests = run_indexer()
    assert requests and all(r["account"] == account_id for r in requests)
    assert indexed(db, account_id) == 5
    assert len(search.run(account_id, search.parse({"q": "invoice"}))) == 5
    before = db("SELECT message_id, search::text FROM mail_import.message_search WHERE account_id = %s "
                "ORDER BY message_id", account_id)
    # Every request delivered again (at least once): each finds its messages indexed and stores nothing.
    for request in requests:
        assert indexer.index(request["account"], request["from"], 100)[2] == 0
    assert db("SELECT message_id, search::text FROM mail_import.message_search WHERE account_id = %s "
              "ORDER BY message_id", account_id) == before


def test_a_request_indexes_a_bounded_share_and_queues_the_rest(dovecot, new_account, run_import, run_indexer, db,
                                                               monkeypatch):
    monkeypatch.setenv("MAIL_IMPORT_INDEX_BATCH", "2")
    monkeypatch.setenv("MAIL_IMPORT_INDEX_INTERVAL", "3600")   # one request per chunk: the chain does the rest
    settings.load.cache_clear()
    account_id = imported(dovecot, new_account, run_import, "index-chain",
                          [letter(n, f"Report {n}", "Quarterly figures.") for n in range(1, 8)])
    first = db("SELECT min(id) FROM mail_import.messages WHERE account_id = %s", account_id)[0][0]
    taken = []
    original = indexer.index

    def counting(account, from_id, limit):
        result = original(account, from_id, limit)
        taken.append(result[0])
        return result
    monkeypatch.setattr(indexer, "index", counting)
    requests = run_indexer()
    assert indexed(db, account_id) == 7
    assert max(taken) == 2                                     # never more than index_batch per request
    chained = [r["from"] for r in requests if r["from"] > first]
    assert chained == sorted(chained) and len(chained) >= 3   # 7 messages, 2 per request


def test_requests_lost_after_the_commits_are_covered_by_the_jobs_last_request(
        dovecot, new_account, run_import, run_indexer, db, monkeypatch):
    # A crash between a batch's commit and its indexing request: no request from the batches at all.
    monkeypatch.setattr(indexer.Requests, "flush", lambda self: None)
    account_id = imported(dovecot, new_account, run_import, "index-lost",
                          [letter(n, f"Lost {n}", "Текст письма.") for n in range(1, 4)])
    requests = run_indexer()
    first = db("SELECT min(id) FROM mail_import.messages WHERE account_id = %s", account_id)[0][0]
    assert requests == [{"account": account_id, "from": first}]
    assert indexed(db, account_id) == 3
    # Its last request queued, the job has nothing left for the schedule's backstop.
    assert db("SELECT index_from FROM mail_import.jobs WHERE account_id = %s", account_id) == [(None,)]


def test_a_job_that_could_not_ask_for_its_indexing_is_indexed_through_the_schedule(
        dovecot, new_account, run_indexer, run_import, db, monkeypatch):
    # SQS refuses every indexing request while the job runs: it stores the messages, fails to finish well on
    # every attempt and ends in error, its last request not queued either.
    # Jobs earlier tests left unrequested are requested (and indexed) first, so the count below is this test's.
    indexer.request_missed()
    run_indexer()
    monkeypatch.setattr(indexer.Requests, "flush", lambda self: None)

    def refused(account, from_id):
        raise OSError("SQS is down")
    working = indexer.request
    monkeypatch.setattr(indexer, "request", refused)
    mailbox = dovecot.new_mailbox("index-missed")
    mailbox.fill("INBOX", [letter(n, f"Missed {n}", "Текст.") for n in range(1, 4)])
    account_id, _token = new_account(mailbox)
    job = run_import(account_id).job
    monkeypatch.setattr(indexer, "request", working)      # SQS is back
    assert job["state"] == "error" and job["imported"] == 3
    assert run_indexer() == [] and indexed(db, account_id) == 0

    assert indexer.request_missed() == 1            # the sync schedule's backstop: this test's job alone
    first = db("SELECT min(id) FROM mail_import.messages WHERE account_id = %s", account_id)[0][0]
    assert {"account": account_id, "from": first} in run_indexer()
    assert indexed(db, account_id) == 3
    assert db("SELECT index_from FROM mail_import.jobs WHERE account_id = %s", account_id) == [(None,)]
    assert indexer.request_missed() == 0            # asked once


@pytest.fixture(scope="module")
def languages(dovecot, new_account, run_import, run_indexer):
    account_id = imported(dovecot, new_account, run_import, "index-languages",
                          [letter(1, "Черновик отчёта", "Посмотрите цифры."),
                           letter(2, "The reports were running late", "Nothing else."),
                           letter(3, "Обед", "Пойдём обедать.")])
    run_indexer()
    return account_id


@pytest.mark.parametrize("query, subject", [
    ("отчёт", "Черновик отчёта"), ("отчетов", "Черновик отчёта"),   # Russian word forms, ё typed as е
    ("run", "The reports were running late"), ("report", "The reports were running late"),  # English stems
])
def test_one_configuration_finds_russian_word_forms_and_english_stems(languages, query, subject):
    assert [row["subject"] for row in search.run(languages, search.parse({"q": query}))] == [subject]
