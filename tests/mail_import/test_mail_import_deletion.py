"""Deleting a mailbox (issue 22, item 4): everything it holds goes (messages, search rows, attachments and their S3
objects, the stored password, the schedule, jobs, tokens, folders) and nothing of another account; the deletion is
queued and resumable: killed half-way it finishes when its message comes back; a running import stops first."""
import contextlib
from urllib.parse import urlencode

import boto3
import pytest
from chalice.test import Client
from mail_import_corpus import make_message

from functions.mail_import.chalicelib.engine import deletion, jobs
from mail_import_support import LambdaContext

TABLES = ("accounts WHERE id", "account_tokens WHERE account_id", "folders WHERE account_id", "jobs WHERE account_id",
          "messages WHERE account_id", "ws_connections WHERE account_id")


@pytest.fixture
def drain(app_module, mail_env):
    """drain() -> deliveries that failed: feed the import queue's messages to app.import_worker until it is empty
    (a failed one is made visible again at once, as SQS does when its backoff ends)."""
    sqs = boto3.client("sqs")

    def run(max_deliveries=20, stop_on_failure=False):
        failed = 0
        for _ in range(max_deliveries):
            messages = sqs.receive_message(QueueUrl=mail_env["queue"], MaxNumberOfMessages=1,
                                           AttributeNames=["All"]).get("Messages", [])
            if not messages:
                return failed
            (message,) = messages
            event = {"Records": [{"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
                                  "body": message["Body"], "attributes": message["Attributes"],
                                  "messageAttributes": {}, "eventSource": "aws:sqs",
                                  "eventSourceARN": mail_env["arn"]}]}
            if app_module.import_worker(event, LambdaContext())["batchItemFailures"]:
                failed += 1
                sqs.change_message_visibility(QueueUrl=mail_env["queue"], ReceiptHandle=message["ReceiptHandle"],
                                              VisibilityTimeout=0)
                if stop_on_failure:
                    return failed
            else:
                sqs.delete_message(QueueUrl=mail_env["queue"], ReceiptHandle=message["ReceiptHandle"])
        return failed
    return run


def left(db, account_id):
    """{table: rows} of what the account still has anywhere (search rows and attachments through its messages)."""
    found = {table.split()[0]: db(f"SELECT count(*) FROM mail_import.{table} = %s", account_id)[0][0]
             for table in TABLES}
    found["attachments"] = db("SELECT count(*) FROM mail_import.attachments t JOIN mail_import.messages m "
                              "ON m.id = t.message_id WHERE m.account_id = %s", account_id)[0][0]
    found["message_search"] = db("SELECT count(*) FROM mail_import.message_search s JOIN mail_import.messages m "
                                 "ON m.id = s.message_id WHERE m.account_id = %s", account_id)[0][0]
    return {table: count for table, count in found.items() if count}


def objects(mail_env, account_id):
    listed = boto3.client("s3").list_objects_v2(Bucket=mail_env["bucket"], Prefix=f"attachments/{account_id}/")
    return [item["Key"] for item in listed.get("Contents", [])]


@pytest.fixture
def imported(dovecot, new_account, run_import, run_indexer, mail_env):
    """imported(name, n) -> (account id, token) of an account with n messages (every third with an attachment),
    imported and indexed."""
    def make(name, count=12):
        mailbox = dovecot.new_mailbox(name)
        mailbox.fill("INBOX", [make_message(i, i % 3 == 0) for i in range(count)])
        account_id, token = new_account(mailbox, folders="INBOX")
        assert run_import(account_id).job["state"] == "done"
        run_indexer()
        assert objects(mail_env, account_id)
        return account_id, token
    return make


def test_a_deleted_mailbox_leaves_no_row_and_no_object_and_another_keeps_everything(
        app_module, imported, drain, db, mail_env):
    victim, token = imported("deleted")
    bystander, _ = imported("kept")
    kept_before, kept_objects = left(db, bystander), objects(mail_env, bystander)
    auth = {"Authorization": f"Bearer {token}"}
    with Client(app_module.app) as client:
        answer = client.http.delete(f"/api/accounts/{victim}", headers=auth)
        assert answer.status_code == 202 and answer.json_body["deleting"]["messages"] == 12
        assert answer.json_body["deleting"]["attachments"] == 4
        # At once: the token opens nothing, the password and the schedule are gone.
        assert client.http.get(f"/api/accounts/{victim}", headers=auth).status_code == 404
        assert db("SELECT password_enc, sync_minutes FROM mail_import.accounts WHERE id = %s", victim) == [("", None)]
        assert client.http.delete(f"/api/accounts/{victim}", headers=auth).status_code == 404
    assert drain() == 0
    assert left(db, victim) == {} and objects(mail_env, victim) == []
    assert left(db, bystander) == kept_before and objects(mail_env, bystander) == kept_objects
    assert drain() == 0                                         # nothing left to do, nothing queued


def test_a_deletion_killed_half_way_finishes_when_its_message_comes_back(imported, drain, db, mail_env, monkeypatch):
    victim, _ = imported("killed", count=10)
    monkeypatch.setattr(deletion, "MESSAGE_BATCH", 3)
    transactions, real = [], deletion.pg_transaction

    @contextlib.contextmanager
    def dying():
        transactions.append(1)
        if len(transactions) == 6:          # the mark, the check, the object keys, two batches of messages: then
            raise RuntimeError("killed")
        with real() as cur:
            yield cur
    monkeypatch.setattr(deletion, "pg_transaction", dying)
    assert deletion.request(victim)["messages"] == 10
    assert drain(stop_on_failure=True) == 1
    half = left(db, victim)
    assert half["accounts"] == 1 and half["messages"] == 4 and objects(mail_env, victim) == []
    assert drain() == 0
    assert left(db, victim) == {}


def test_a_running_import_stops_before_the_deletion_goes_on(imported, drain, db, mail_env):
    victim, _ = imported("busy", count=3)
    job = jobs.start(victim)
    drain_queue = boto3.client("sqs")
    for message in drain_queue.receive_message(QueueUrl=mail_env["queue"], MaxNumberOfMessages=10).get("Messages", []):
        drain_queue.delete_message(QueueUrl=mail_env["queue"], ReceiptHandle=message["ReceiptHandle"])
    # A chunk holds the job: the deletion asks it to stop and waits.
    db("UPDATE mail_import.jobs SET state = 'running', lease_owner = gen_random_uuid(), "
       "lease_until = now() + interval '1 hour' WHERE id = %s", job["id"])
    deletion.request(victim)
    assert db("SELECT cancel_requested FROM mail_import.jobs WHERE id = %s", job["id"]) == [(True,)]
    assert drain(stop_on_failure=True) == 1 and left(db, victim)["messages"] == 3
    db("UPDATE mail_import.jobs SET lease_until = now() - interval '1 second' WHERE id = %s", job["id"])   # it let go
    assert drain() == 0
    assert left(db, victim) == {}


@pytest.mark.parametrize("language, says", [
    ("ru", ["удаляется", "Писем: 5", "Вложений: 2"]), ("en", ["is being deleted", "Messages: 5", "Attachments: 2"])])
def test_the_page_deletes_after_confirmation_and_says_what_goes(app_module, imported, drain, db, language, says):
    victim, token = imported(f"page {language}", count=5)
    reader = {"Cookie": f"mail_import_{victim}={token}", "Accept-Language": language}
    headers = dict(reader, **{"Content-Type": "application/x-www-form-urlencoded"})
    with Client(app_module.app) as client:
        page = client.http.get(f"/accounts/{victim}", headers=reader).body.decode()
        assert 'id="delete-mailbox"' in page and f'action="/accounts/{victim}/delete"' in page
        unconfirmed = client.http.post(f"/accounts/{victim}/delete", headers=headers, body="")
        assert unconfirmed.status_code == 400 and left(db, victim)["accounts"] == 1
        done = client.http.post(f"/accounts/{victim}/delete", headers=headers, body=urlencode({"confirm": "yes"}))
        assert done.status_code == 200 and all(text in done.body.decode() for text in says)
        assert f"mail_import_{victim}=; Path=/; Max-Age=0" in str(done.headers["Set-Cookie"])
        assert client.http.get(f"/accounts/{victim}", headers=reader).status_code == 404
    drain()
    assert left(db, victim) == {}


def test_a_deletion_whose_message_was_lost_is_queued_again_by_the_sync_schedule(imported, drain, db, monkeypatch):
    from common import queue
    from functions.mail_import.chalicelib.engine import schedule
    victim, _ = imported("lost message", count=2)

    def lost(*_args, **_kwargs):
        raise queue.SendError({"message": "queue unavailable"})
    monkeypatch.setattr(queue, "send", lost)
    assert deletion.request(victim)["messages"] == 2          # marked; the message never went
    monkeypatch.undo()
    assert drain() == 0 and left(db, victim)["messages"] == 2
    # Only this deletion is stalled, and nothing else is due (the database is shared by the session).
    db("UPDATE mail_import.accounts SET next_sync_at = now() + interval '1 day'")
    db("UPDATE mail_import.jobs SET updated_at = now() WHERE state IN ('queued', 'running')")
    db("UPDATE mail_import.jobs SET index_from = NULL WHERE state NOT IN ('queued', 'running')")
    db("UPDATE mail_import.accounts SET deleting_at = CASE WHEN id = %s THEN now() - interval '1 hour' ELSE now() END "
       "WHERE deleting_at IS NOT NULL", victim)
    assert schedule.run()["deletions"] == 1
    assert drain() == 0
    assert left(db, victim) == {}
