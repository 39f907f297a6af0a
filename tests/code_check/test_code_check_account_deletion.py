"""Deleting an account with everything (issue 22): no row and no S3 object version of it is left, also when the
deleter dies half-way and its message is delivered again; nothing of it is checked or e-mailed meanwhile."""
import json
from pathlib import Path

import boto3
import pytest

from code_check_helpers import PASSWORD, Browser, sent_mail
from functions.code_check.chalicelib import queue_messages
from functions.code_check.chalicelib.accounts import deletion, sessions, tokens, users
from functions.code_check.chalicelib.checks import tick
from functions.code_check.chalicelib.files import store
from functions.code_check.chalicelib.reports import notifier
from waiting import wait_until

FAULTS = str(Path(__file__).resolve().parent.parent / "worker_kills.py")
TABLES = {
    "users": "SELECT count(*) FROM code_check.users WHERE id = %(u)s",
    "sessions": "SELECT count(*) FROM code_check.sessions WHERE user_id = %(u)s",
    "api_tokens": "SELECT count(*) FROM code_check.api_tokens WHERE user_id = %(u)s",
    "files": "SELECT count(*) FROM code_check.files WHERE user_id = %(u)s",
    "versions": "SELECT count(*) FROM code_check.versions WHERE file_id = ANY(%(f)s)",
    "checks": """SELECT count(*) FROM code_check.checks c JOIN code_check.versions v ON v.id = c.version_id
                 WHERE v.file_id = ANY(%(f)s) OR c.id = ANY(%(c)s)""",
    "violations": "SELECT count(*) FROM code_check.violations WHERE check_id = ANY(%(c)s)",
}


def rows_left(tx, user_id, file_ids, check_ids):
    with tx() as cur:
        found = {}
        for table, sql in TABLES.items():
            cur.execute(sql, {"u": user_id, "f": file_ids, "c": check_ids})
            found[table] = cur.fetchone()[0]
        return {table: n for table, n in found.items() if n}


def object_versions(bucket, user_id):
    listed = boto3.client("s3").list_object_versions(Bucket=bucket, Prefix=deletion.object_prefix(user_id))
    return [(v["Key"], v["VersionId"]) for v in listed.get("Versions", []) + listed.get("DeleteMarkers", [])]


def full_account(tx, settings, make_user):
    """A confirmed user with two files (three versions, one deleted file with a delete marker-free history),
    checks with violations, a token and a session; returns (user id, file ids, check ids)."""
    user_id = make_user()
    with tx() as cur:
        first = store.upload(cur, settings.bucket, user_id, "a.py", b"import os\nx=1\n")
        store.upload(cur, settings.bucket, user_id, "a.py", b"import os\nx=2\n")
        second = store.upload(cur, settings.bucket, user_id, "b.py", b"y = 1\n")
        tokens.create(cur, user_id, "ci")
        sessions.create(cur, user_id, 1)
    tick.tick(settings)
    with tx() as cur:
        store.delete(cur, user_id, second.file_id)
        cur.execute("""SELECT c.id FROM code_check.checks c JOIN code_check.versions v ON v.id = c.version_id
                       WHERE v.file_id = ANY(%s)""", ([first.file_id, second.file_id],))
        check_ids = [r[0] for r in cur.fetchall()]
    return user_id, [first.file_id, second.file_id], check_ids


def me_of(tx, user_id):
    with tx() as cur:
        cur.execute("SELECT id, email FROM code_check.users WHERE id = %s", (user_id,))
        row = cur.fetchone()
    return {"id": row[0], "email": row[1], "csrf": "x", "confirmed": True}


def queued(settings):
    sqs = boto3.client("sqs")
    got = sqs.receive_message(QueueUrl=settings.deletions_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    return [queue_messages.parse(m["Body"]) for m in got.get("Messages", [])]


def test_a_deleted_account_leaves_no_row_and_no_object_version(tx, cc_settings, make_user, aws_endpoint):
    user_id, file_ids, check_ids = full_account(tx, cc_settings, make_user)
    assert len(object_versions(cc_settings.bucket, user_id)) == 3
    assert set(rows_left(tx, user_id, file_ids, check_ids)) == set(TABLES)
    queued(cc_settings)
    deletion.request(cc_settings, me_of(tx, user_id), PASSWORD, "192.0.2.7")
    # At once: no session or token of it works, and its message is queued.
    assert {"sessions", "api_tokens"} & set(rows_left(tx, user_id, file_ids, check_ids)) == set()
    assert queue_messages.DeleteAccount(user_id) in queued(cc_settings)
    # Meanwhile nothing of it is e-mailed (a report message still queued is skipped, then finds it gone).
    assert notifier.notify(cc_settings, check_ids[0]) in ("skipped", "already sent")
    assert deletion.run(cc_settings, user_id) == "deleted"
    assert rows_left(tx, user_id, file_ids, check_ids) == {}
    assert object_versions(cc_settings.bucket, user_id) == []
    # Delivered again: nothing to do.
    assert deletion.run(cc_settings, user_id) == "gone"
    assert notifier.notify(cc_settings, check_ids[-1]) == "gone"


def test_a_wrong_password_deletes_nothing(tx, cc_settings, make_user):
    user_id = make_user()
    with pytest.raises(users.FormErrors):
        deletion.request(cc_settings, me_of(tx, user_id), "not my password 1", "192.0.2.8")
    assert rows_left(tx, user_id, [], []) == {"users": 1}
    assert deletion.run(cc_settings, user_id) == "not asked"
    assert rows_left(tx, user_id, [], []) == {"users": 1}


def test_a_deletion_dying_half_way_is_finished_by_the_redelivery(tx, cc_settings, make_user, monkeypatch):
    user_id, file_ids, check_ids = full_account(tx, cc_settings, make_user)
    deletion.request(cc_settings, me_of(tx, user_id), PASSWORD, "192.0.2.7")
    real = deletion._delete_file
    calls = []

    def dies_at_the_second_file(file_id):
        calls.append(file_id)
        if len(calls) == 2:
            raise SystemExit("killed")
        real(file_id)
    monkeypatch.setattr(deletion, "_delete_file", dies_at_the_second_file)
    with pytest.raises(SystemExit):
        deletion.run(cc_settings, user_id)
    left = rows_left(tx, user_id, file_ids, check_ids)
    assert left["users"] == 1 and left["files"] == 1                  # half-way: one file gone, one left
    assert object_versions(cc_settings.bucket, user_id) == []
    monkeypatch.setattr(deletion, "_delete_file", real)
    assert deletion.run(cc_settings, user_id) == "deleted"
    assert rows_left(tx, user_id, file_ids, check_ids) == {}
    assert object_versions(cc_settings.bucket, user_id) == []


def test_a_deletion_whose_message_was_lost_is_queued_again(tx, cc_settings, make_user, monkeypatch):
    user_id = make_user()
    monkeypatch.setattr(deletion.queue, "send_all", lambda url, messages, **kw: {key: "down" for key, *_ in messages})
    deletion.request(cc_settings, me_of(tx, user_id), PASSWORD, "192.0.2.7")
    monkeypatch.undo()
    queued(cc_settings)
    monkeypatch.setattr(deletion, "REQUEUE_AFTER", 0)
    assert deletion.sweep(cc_settings) >= 1
    assert queue_messages.DeleteAccount(user_id) in queued(cc_settings)


def test_deleting_through_the_page_and_a_deleter_killed_half_way(start_cloud, tx, tmp_path, aws_endpoint):
    """The account page's button, the deletions queue and a real deleter process SIGKILLed before its first file's
    rows (its S3 objects already gone); the redelivered message finishes the work."""
    kills = tmp_path / "kills"
    kills.write_text("1")
    cloud = start_cloud(functions=["CodeCheckWebFunction", "CodeCheckDeleterFunction"],
                        env={"LOCAL_PRELOAD": FAULTS, "FAULT_KILLS_FILE": str(kills),
                             "FAULT_KILL_TARGET": "chalicelib.accounts.deletion:_delete_file"},
                        queue_attributes={"CodeCheckDeletionsQueue": {"VisibilityTimeout": "5"}})
    bucket = cloud.physical_id("CodeCheckFilesBucket")
    me = Browser(cloud.api_url("CodeCheckApi")).register()
    assert me.upload(("a.py", b"import os\n"), ("b.py", b"x = 1\n")).status_code == 200
    assert me.upload(("a.py", b"import sys\n")).status_code == 200
    with tx() as cur:
        cur.execute("SELECT id FROM code_check.users WHERE email = %s", (me.email,))
        user_id = cur.fetchone()[0]
        cur.execute("SELECT id FROM code_check.files WHERE user_id = %s", (user_id,))
        file_ids = [r[0] for r in cur.fetchall()]
    assert len(object_versions(bucket, user_id)) == 3
    wrong = me.post("/account/delete", {"current": "not my password 1"}, headers={"Accept-Language": "en"})
    assert wrong.status_code == 400 and "current password is wrong" in wrong.text
    done = me.post("/account/delete", {"current": PASSWORD}, headers={"Accept-Language": "en"})
    assert done.status_code == 200 and 'id="account-deleted"' in done.text
    assert me.get("/").status_code == 303                       # signed out at once
    wait_until(lambda: not rows_left(tx, user_id, file_ids, []), 120, "the account's rows to be deleted")
    assert kills.read_text() == "0"                             # the deleter was killed once on the way
    assert object_versions(bucket, user_id) == []
    dead = boto3.client("sqs").get_queue_attributes(
        QueueUrl=cloud.physical_id("CodeCheckDeletionsDeadLetterQueue"),
        AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    assert dead == {"ApproximateNumberOfMessages": "0"}
    assert not [m for m in sent_mail(aws_endpoint) if "report" in m["subject"].lower()
                and me.email in m["destinations"]["ToAddresses"]]
    cloud.stop()


def test_an_unusable_or_foreign_message_is_dropped(cc_settings):
    deletion.handle_record(cc_settings, {"messageId": "x", "body": "not json"})
    deletion.handle_record(cc_settings, {"messageId": "y", "body": json.dumps({"check_id": 5})})
