"""mail_import's guards, each with a test that fails when the guard is removed: a chunk that lost its lease
or its folder writes nothing, the last attempt ends the job, malformed or unqueueable messages say so, and
secrets at rest are encrypted (the IMAP password) or digested (the access token)."""
import json
import logging

import pytest
from cryptography.fernet import Fernet
from mail_import_corpus import make_message

from common import passwords, secretbox
from functions.mail_import.chalicelib import settings
from functions.mail_import.chalicelib.engine import imap_session, job_records, jobs, message_store
from functions.mail_import.chalicelib.engine.failures import NOT_QUEUED, UNEXPECTED, FolderChanged, LeaseLost
from functions.mail_import.chalicelib.mime import message_rows
from functions.mail_import.chalicelib.mime.parser import parse_message
from mail_import_support import LambdaContext

UIDVALIDITY = 7
CHUNK_A, CHUNK_B = "00000000-0000-0000-0000-00000000000a", "00000000-0000-0000-0000-00000000000b"


def records(*uids):
    return [message_rows.record(uid, parse_message(make_message(9100 + uid, False)), None, 100, []) for uid in uids]


@pytest.fixture
def leased_job(dovecot, new_account, db):
    """(job, account id): a job whose first chunk holds the lease as CHUNK_A, INBOX checkpointed at 0."""
    account_id, _token = new_account(dovecot.new_mailbox("guard"))
    job, created = job_records.create_job(account_id)
    assert created
    job = job_records.lease(job["id"], 0, CHUNK_A, 60)
    assert job is not None
    db("INSERT INTO mail_import.folders (account_id, name, uidvalidity, last_uid) VALUES (%s, 'INBOX', %s, 0)",
       account_id, UIDVALIDITY)
    yield job, account_id
    job_records.finish(job["id"], "done")   # its lease would count against the IMAP host's cap for a minute


def written(db, job, account_id):
    """(messages stored, INBOX checkpoint, job's imported count)."""
    return (db("SELECT count(*) FROM mail_import.messages WHERE account_id = %s", account_id)[0][0],
            db("SELECT last_uid FROM mail_import.folders WHERE account_id = %s", account_id)[0][0],
            db("SELECT imported FROM mail_import.jobs WHERE id = %s", job["id"])[0][0])


def test_a_chunk_that_lost_its_lease_commits_nothing(leased_job, db):
    job, account_id = leased_job
    # Its lease ran out and a redelivered message took the job over.
    db("UPDATE mail_import.jobs SET lease_owner = %s WHERE id = %s", CHUNK_B, job["id"])
    with pytest.raises(LeaseLost):
        message_store.commit_batch(job, CHUNK_A, "INBOX", UIDVALIDITY, records(1, 2), 2, 0)
    assert written(db, job, account_id) == (0, 0, 0)
    # The holder's commit of the same batch goes through: the refusal is about the lease, not the batch.
    assert len(message_store.commit_batch(job, CHUNK_B, "INBOX", UIDVALIDITY, records(1, 2), 2, 0)) == 2
    assert written(db, job, account_id) == (2, 2, 2)


def test_a_chunk_whose_folder_changed_uidvalidity_commits_nothing(leased_job, db):
    job, account_id = leased_job
    with pytest.raises(FolderChanged):
        message_store.commit_batch(job, CHUNK_A, "INBOX", UIDVALIDITY + 1, records(1, 2), 2, 0)
    assert written(db, job, account_id) == (0, 0, 0)
    assert len(message_store.commit_batch(job, CHUNK_A, "INBOX", UIDVALIDITY, records(1, 2), 2, 0)) == 2
    assert written(db, job, account_id) == (2, 2, 2)


def test_the_last_attempt_of_a_failing_chunk_ends_the_job_in_error(dovecot, new_account, run_import, monkeypatch,
                                                                   db):
    def bug(_server):
        raise RuntimeError("a bug in the chunk")
    monkeypatch.setattr(imap_session, "connect", bug)
    attempts = settings.load().max_attempts
    assert attempts >= 2
    account_id, _token = new_account(dovecot.new_mailbox("last"))

    run = run_import(account_id, max_deliveries=attempts + 3)

    # Every attempt but the last hands the message back; the last one ends the job instead of leaving it
    # "running" with no message left to finish it.
    assert run.deliveries == attempts and len(run.failures) == attempts - 1
    assert run.job["state"] == "error"
    assert db("SELECT lease_owner FROM mail_import.jobs WHERE id = %s", run.job["id"]) == [(None,)]
    assert run.job["error"] == UNEXPECTED
    assert job_records.latest_job(account_id)["state"] == "error"


@pytest.mark.parametrize("body", ["not json", "[]", '{"seq": 0}', '{"job": "seven", "seq": 0}', '{"job": 1}'])
def test_a_malformed_chunk_message_is_dropped_with_a_log_line(app_module, mail_env, caplog, body):
    record = {"messageId": "m-1", "receiptHandle": "rh-1", "body": body,
              "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}, "eventSource": "aws:sqs",
              "eventSourceARN": mail_env["arn"]}
    with caplog.at_level(logging.WARNING):
        assert app_module.import_worker({"Records": [record]}, LambdaContext()) == {"batchItemFailures": []}
    dropped = [r for r in caplog.records if r.getMessage() == "dropping a malformed chunk message"]
    assert dropped and body[:20] in dropped[0].reason      # common.log: the body is a field of the line


def test_a_job_that_could_not_be_queued_says_so(dovecot, new_account, monkeypatch):
    account_id, _token = new_account(dovecot.new_mailbox("unqueued"))
    monkeypatch.setenv("MAIL_IMPORT_QUEUE_URL", "http://127.0.0.1:9/000000000000/no-such-queue")
    settings.load.cache_clear()

    job = jobs.start(account_id)

    assert job["state"] == "error" and job["error"] == NOT_QUEUED
    assert job_records.latest_job(account_id)["id"] == job["id"]


def test_the_imap_password_is_stored_encrypted_and_the_token_only_as_a_digest(dovecot, new_account, db):
    mailbox = dovecot.new_mailbox("secrets")
    account_id, token = new_account(mailbox)
    columns = [d for d in db("SELECT column_name FROM information_schema.columns WHERE table_schema = "
                             "'mail_import' AND table_name = 'accounts' ORDER BY ordinal_position")]
    row = dict(zip([c[0] for c in columns], db("SELECT * FROM mail_import.accounts WHERE id = %s", account_id)[0]))

    stored = row["password_enc"]
    assert stored != mailbox.password and mailbox.password not in stored
    assert secretbox.decrypt(stored) == mailbox.password
    with pytest.raises(ValueError):
        secretbox.decrypt(stored, key=Fernet.generate_key())
    assert row["token_digest"] == passwords.api_key_digest(token)
    # Neither secret appears in clear anywhere in the row.
    assert not [name for name, value in row.items()
                if isinstance(value, str) and (token in value or mailbox.password in value)]
    assert json.dumps(row, default=str).count(token) == 0
