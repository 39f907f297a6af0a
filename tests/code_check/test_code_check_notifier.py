"""The notifier: one e-mail per check whatever SQS redelivers; claims; SES failures retried."""
import dataclasses
import json
import uuid

import pytest

from common import batch
from code_check_helpers import sent_mail
from functions.code_check.chalicelib.checks import tick
from functions.code_check.chalicelib.files import store
from functions.code_check.chalicelib.reports import notifier


def checked_file(tx, settings, make_user, data=b"import os\nx=1\n"):
    user = make_user()
    with tx() as cur:
        stored = store.upload(cur, settings.bucket, user, "n.py", data)
        cur.execute("SELECT email FROM code_check.users WHERE id = %s", (user,))
        email = cur.fetchone()[0]
    tick.tick(settings)
    with tx() as cur:
        cur.execute("""SELECT c.id FROM code_check.checks c JOIN code_check.versions v ON v.id = c.version_id
                       WHERE v.file_id = %s ORDER BY c.id DESC LIMIT 1""", (stored.file_id,))
        return cur.fetchone()[0], email, stored


def mails_to(endpoint, address):
    return [m for m in sent_mail(endpoint) if address in m["destinations"]["ToAddresses"]]


def email_row(tx, check_id):
    with tx() as cur:
        cur.execute("""SELECT email_state, email_sent_at IS NOT NULL, email_attempts, email_error
                       FROM code_check.checks WHERE id = %s""", (check_id,))
        return cur.fetchone()


def record(check_id, receive_count=1):
    return {"messageId": str(uuid.uuid4()), "body": json.dumps({"check_id": check_id}),
            "attributes": {"ApproximateReceiveCount": str(receive_count)}}


def test_redelivered_message_sends_one_email(tx, cc_settings, make_user, aws_endpoint):
    check_id, email, _ = checked_file(tx, cc_settings, make_user)
    notifier.handle_record(cc_settings, record(check_id))
    notifier.handle_record(cc_settings, record(check_id, 2))
    assert notifier.notify(cc_settings, check_id) == "already sent"
    assert len(mails_to(aws_endpoint, email)) == 1
    assert email_row(tx, check_id)[:3] == ("sent", True, 1)


def test_report_email_is_readable(tx, cc_settings, make_user, aws_endpoint):
    check_id, email, stored = checked_file(tx, cc_settings, make_user)
    with tx() as cur:
        store.upload(cur, cc_settings.bucket, stored_user(cur, stored.file_id), "n.py", b"import os\nx = 1\ny=[1,2]\n")
    notifier.notify(cc_settings, check_id)
    tick.tick(cc_settings)
    with tx() as cur:
        cur.execute("""SELECT c.id FROM code_check.checks c JOIN code_check.versions v ON v.id = c.version_id
                       WHERE v.file_id = %s AND v.number = 2""", (stored.file_id,))
        second = cur.fetchone()[0]
    notifier.notify(cc_settings, second)
    mail = mails_to(aws_endpoint, email)[-1]
    assert mail["source"] == cc_settings.sender
    # The platform's words open the subject; the user's file name comes last.
    assert mail["subject"] == "code_check report: 3 problems (2 new) in version 2 of n.py"
    body = mail["body"]
    assert "n.py, version 2" in body and f"{cc_settings.public_url}/files/{stored.file_id}?version=2" in body
    # New problems come first, then the remaining one, then the fixed one.
    assert body.index("E225") < body.index("E231") < body.index("F401") < body.index("Fixed")
    assert "x=1" in body.split("Fixed")[1]


def stored_user(cur, file_id):
    cur.execute("SELECT user_id FROM code_check.files WHERE id = %s", (file_id,))
    return cur.fetchone()[0]


def test_a_fresh_claim_is_left_to_its_sender(tx, cc_settings, make_user, aws_endpoint):
    check_id, email, _ = checked_file(tx, cc_settings, make_user)
    with tx() as cur:
        cur.execute("""UPDATE code_check.checks SET email_state = 'claimed', email_claimed_at = now(),
                       email_attempts = 1 WHERE id = %s""", (check_id,))
    with pytest.raises(batch.Retry):
        notifier.notify(cc_settings, check_id)
    assert mails_to(aws_endpoint, email) == []
    assert email_row(tx, check_id)[0] == "claimed"


def test_a_crashed_claim_is_resolved_once(tx, cc_settings, make_user, aws_endpoint):
    check_id, email, _ = checked_file(tx, cc_settings, make_user)
    with tx() as cur:
        cur.execute("""UPDATE code_check.checks SET email_state = 'claimed', email_attempts = 1,
                       email_claimed_at = now() - interval '1 hour' WHERE id = %s""", (check_id,))
    assert notifier.notify(cc_settings, check_id) == "sent"
    assert notifier.notify(cc_settings, check_id) == "already sent"
    assert len(mails_to(aws_endpoint, email)) == 1
    assert email_row(tx, check_id)[:3] == ("sent", True, 2)


class RefusingSes:
    def send_email(self, **kwargs):
        raise RuntimeError("MessageRejected: Email address is not verified")


def test_ses_failure_releases_the_claim_and_asks_for_a_retry(tx, cc_settings, make_user, aws_endpoint, monkeypatch):
    check_id, email, _ = checked_file(tx, cc_settings, make_user)
    monkeypatch.setattr(notifier, "ses", lambda: RefusingSes())
    with pytest.raises(batch.Retry) as retry:
        notifier.notify(cc_settings, check_id)
    # the batch's jittered backoff, by the check's own attempts (1), not its receives
    assert batch.Backoff(rng=lambda: 0.0)(1) <= retry.value.delay <= batch.Backoff(rng=lambda: 1.0)(1)
    state, sent, attempts, error = email_row(tx, check_id)
    assert (state, sent, attempts) == ("pending", False, 1) and "MessageRejected" in error
    monkeypatch.undo()
    assert notifier.notify(cc_settings, check_id) == "sent"
    assert len(mails_to(aws_endpoint, email)) == 1


def test_failed_checks_send_nothing_and_unusable_messages_are_dropped(tx, cc_settings, make_user, aws_endpoint):
    check_id, email, _ = checked_file(tx, cc_settings, make_user)
    with tx() as cur:
        cur.execute("UPDATE code_check.checks SET email_state = 'none' WHERE id = %s", (check_id,))
    assert notifier.notify(cc_settings, check_id) == "already sent"
    notifier.handle_record(cc_settings, {"messageId": "x", "body": "not json"})
    assert notifier.notify(cc_settings, 2 ** 62) == "gone"
    assert mails_to(aws_endpoint, email) == []


def test_the_notifier_refuses_to_run_without_the_public_url(monkeypatch):
    from common.settings import SettingError
    from functions.code_check.chalicelib import settings
    monkeypatch.setenv("CODE_CHECK_BUCKET", "b")
    monkeypatch.setenv("CODE_CHECK_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/1/q")
    monkeypatch.setenv("CODE_CHECK_SENDER", "s@example.com")
    monkeypatch.delenv("CODE_CHECK_PUBLIC_URL", raising=False)
    settings.load.cache_clear()
    try:
        assert settings.load().public_url is None          # the web function runs without it
        with pytest.raises(SettingError, match="CODE_CHECK_PUBLIC_URL"):
            settings.for_notifier()                        # the e-mails' links need it
        monkeypatch.setenv("CODE_CHECK_PUBLIC_URL", "https://x.example.com/prod")
        settings.load.cache_clear()
        assert settings.for_notifier().public_url == "https://x.example.com/prod"
    finally:
        settings.load.cache_clear()


def test_ses_failing_every_time_gives_the_email_up_after_its_attempts(
        tx, cc_settings, make_user, aws_endpoint, monkeypatch):
    check_id, email, _ = checked_file(tx, cc_settings, make_user)
    monkeypatch.setattr(notifier, "ses", lambda: RefusingSes())
    settings = dataclasses.replace(cc_settings, email_attempts=3)
    for attempt in (1, 2):
        with pytest.raises(batch.Retry) as retry:
            notifier.handle_record(settings, record(check_id, receive_count=attempt))
        assert batch.Backoff(rng=lambda: 0.0)(attempt) <= retry.value.delay
        assert email_row(tx, check_id)[0] == "pending"
    # The last attempt, delivered for the 40th time (killed notifiers spent the other receives): final.
    notifier.handle_record(settings, record(check_id, receive_count=40))
    assert email_row(tx, check_id) == ("skipped", False, 3, notifier.GAVE_UP)
    monkeypatch.undo()
    assert notifier.notify(settings, check_id) == "already sent"      # never sent later
    assert mails_to(aws_endpoint, email) == []


def test_a_record_delivered_many_times_without_a_failure_is_still_sent(tx, cc_settings, make_user, aws_endpoint):
    check_id, email, _ = checked_file(tx, cc_settings, make_user)
    notifier.handle_record(cc_settings, record(check_id, receive_count=19))     # deaths spent 18 receives
    assert email_row(tx, check_id)[:3] == ("sent", True, 1)
    assert len(mails_to(aws_endpoint, email)) == 1
