"""Cancelling a running import (issue 22, item 5): the chunk in flight stops at its next batch with every batch it
committed whole, the job ends "cancelled, N of M imported", a reload does not start it again, and a later import
resumes where it stopped, storing nothing twice."""
import boto3
import pytest
from chalice.test import Client
from mail_import_corpus import make_message

from functions.mail_import.chalicelib import settings
from functions.mail_import.chalicelib.engine import job_records, jobs, message_store

MESSAGES = 60


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setenv("MAIL_IMPORT_BATCH", "10")
    monkeypatch.setenv("MAIL_IMPORT_PROCESSES", "1")
    settings.load.cache_clear()


def stored(db, account_id):
    return db("SELECT uid FROM mail_import.messages WHERE account_id = %s ORDER BY uid", account_id)


def test_a_cancel_stops_the_chunk_between_batches_and_a_later_import_resumes(
        dovecot, new_account, run_import, db, small_batches, monkeypatch):
    mailbox = dovecot.new_mailbox("cancel")
    mailbox.fill("INBOX", [make_message(i, i % 7 == 0) for i in range(MESSAGES)])
    account_id, _ = new_account(mailbox, folders="INBOX")
    commit, commits = message_store.commit_batch, []

    def then_cancel(*args, **kwargs):
        rows = commit(*args, **kwargs)
        commits.append(len(rows))
        if len(commits) == 2:
            assert jobs.cancel(account_id)["cancel_requested"]     # the person clicks while the chunk runs
        return rows
    monkeypatch.setattr(message_store, "commit_batch", then_cancel)

    job = run_import(account_id).job
    assert job["state"] == "cancelled" and len(commits) == 3      # the batch in flight is committed whole
    assert job["imported"] == 30 and job["imported"] + job["remaining"] == MESSAGES
    assert [uid for (uid,) in stored(db, account_id)] == list(range(1, 31))
    assert db("SELECT last_uid FROM mail_import.folders WHERE account_id = %s", account_id) == [(30,)]
    assert db("SELECT status FROM mail_import.accounts WHERE id = %s", account_id) == [("ok",)]
    assert jobs.on_page_open(account_id)["id"] == job["id"]          # opening the page again does not undo it

    monkeypatch.setattr(message_store, "commit_batch", commit)
    resumed = run_import(account_id).job
    assert resumed["state"] == "done" and resumed["imported"] == MESSAGES - 30
    assert [uid for (uid,) in stored(db, account_id)] == list(range(1, MESSAGES + 1))


def test_a_queued_import_is_cancelled_at_once_and_its_message_does_nothing(
        app_module, dovecot, new_account, db, mail_env):
    mailbox = dovecot.new_mailbox("cancel queued")
    mailbox.fill("INBOX", [make_message(i, False) for i in range(5)])
    account_id, token = new_account(mailbox, folders="INBOX")
    auth = {"Authorization": f"Bearer {token}"}
    job = jobs.start(account_id)
    with Client(app_module.app) as client:
        answer = client.http.post(f"/api/accounts/{account_id}/cancel", headers=auth)
        assert answer.status_code == 202 and answer.json_body["job"]["state"] == "cancelled"
        # The chunk message already queued finds the job finished: nothing is imported.
        sqs = boto3.client("sqs")
        (message,) = sqs.receive_message(QueueUrl=mail_env["queue"], MaxNumberOfMessages=1)["Messages"]
        jobs.handle(message["Body"], 1, 120_000)
        assert stored(db, account_id) == [] and job_records.get_job(job["id"])["state"] == "cancelled"
        again = client.http.post(f"/api/accounts/{account_id}/cancel", headers=auth)
        assert again.status_code == 202 and again.json_body["job"] is None      # nothing running: nothing to do
        page = client.http.get(f"/accounts/{account_id}", headers=dict(auth, **{"Accept-Language": "en"}))
        assert page.status_code == 200 and job_records.latest_job(account_id)["id"] == job["id"]
        resumed = client.http.post(f"/api/accounts/{account_id}/import", headers=auth)
        assert resumed.json_body["job"]["state"] == "queued"
