"""The sender against the provider emulator over HTTP: sends once whatever the deliveries, claims, end
re-check, windows, retries with backoff on failures and hangs, final errors, the JWT kept out of logs."""
import json
import logging
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from common import batch
from functions.notifications.chalicelib.queue_messages import BadMessage, SendMessage
from functions.notifications.chalicelib.sending import sender

from notifications_helpers import JWT, add_clients, add_mailing

UTC = timezone.utc


class Clock:
    def __init__(self, moment):
        self.moment = moment

    def __call__(self):
        return self.moment


@pytest.fixture
def one(sql, emulator):
    """A client in Moscow and a running mailing with its message created; returns (message id, mailing, client)."""
    now = datetime.now(UTC)
    [client] = add_clients(sql, [("79161234567", "vip", "Europe/Moscow")])
    mailing = add_mailing(now - timedelta(minutes=1), now + timedelta(hours=1), text="Скидка 10%")
    message_id = sql("INSERT INTO notifications.messages (mailing_id, client_id) VALUES (%s, %s) RETURNING id",
                     mailing["id"], client)[0][0]
    return message_id, mailing, client


def status(sql, message_id):
    return sql("SELECT status, attempts, last_error, sent_at IS NOT NULL FROM notifications.messages WHERE id = %s",
               message_id)[0]


def test_sends_the_documented_request_once(sql, one, sender_settings, provider, emulator):
    message_id, mailing, client = one
    assert sender.handle(sender_settings, provider, message_id, Clock(datetime.now(UTC))) == "sent"
    assert emulator.sends() == [{"id": message_id, "phone": 79161234567, "text": "Скидка 10%"}]
    assert status(sql, message_id) == ("sent", 1, None, True)


def test_redelivery_never_sends_twice(sql, one, sender_settings, provider, emulator):
    message_id = one[0]
    for _ in range(3):
        sender.handle(sender_settings, provider, message_id, Clock(datetime.now(UTC)))
    assert emulator.deliveries(message_id) == 1 and len(emulator.requests) == 1


def test_a_fresh_claim_of_another_sender_is_waited_for_not_sent_again(sql, one, sender_settings, provider, emulator):
    message_id = one[0]
    now = datetime.now(UTC)
    sql("UPDATE notifications.messages SET claimed_at = %s, claim_id = gen_random_uuid(), attempts = 1 "
        "WHERE id = %s", now - timedelta(seconds=5), message_id)
    with pytest.raises(batch.Retry) as retry:
        sender.handle(sender_settings, provider, message_id, Clock(now))
    assert 50 <= retry.value.delay <= 56                     # back when the claim would be stale
    assert emulator.requests == [] and status(sql, message_id)[0] == "processing"


def test_a_claim_left_by_a_crashed_sender_is_closed_as_unknown_not_resent(
        sql, one, sender_settings, provider, emulator):
    message_id = one[0]
    now = datetime.now(UTC)
    sql("UPDATE notifications.messages SET claimed_at = %s, claim_id = gen_random_uuid(), attempts = 1 "
        "WHERE id = %s", now - timedelta(seconds=61), message_id)
    assert sender.handle(sender_settings, provider, message_id, Clock(now)) == "unknown"
    assert emulator.requests == []
    assert status(sql, message_id) == ("error", 1, sender.UNKNOWN_OUTCOME, False)
    assert sender.handle(sender_settings, provider, message_id, Clock(now)) == "done"


def test_end_rechecked_right_before_the_send(sql, one, sender_settings, provider, emulator):
    message_id, mailing, _client = one
    after_end = mailing["end_at"] + timedelta(seconds=1)
    assert sender.handle(sender_settings, provider, message_id, Clock(after_end)) == "expired"
    assert emulator.requests == []
    assert status(sql, message_id)[:3] == ("expired", 0, sender.ENDED)


def test_end_passing_between_read_and_claim_sends_nothing(sql, one, sender_settings, provider, emulator):
    """The claim itself re-checks the end: a clock that passes the end after the first look claims nothing."""
    message_id, mailing, _client = one
    moments = iter([mailing["end_at"] - timedelta(seconds=1), mailing["end_at"] + timedelta(seconds=1)])
    with pytest.raises(batch.Retry):
        sender.handle(sender_settings, provider, message_id, lambda: next(moments))
    assert emulator.requests == [] and status(sql, message_id)[0] == "processing"
    assert sender.handle(sender_settings, provider, message_id, Clock(mailing["end_at"])) == "expired"


def test_outside_the_window_is_deferred_to_the_opening_at_most_15_minutes_a_hop(sql, clean, sender_settings,
                                                                                provider, emulator, queue,
                                                                                aws_endpoint):
    now = datetime(2030, 6, 3, 3, 0, tzinfo=UTC)             # 06:00 in Moscow, window 09-21
    [client] = add_clients(sql, [("79161234567", "", "Europe/Moscow")])
    mailing = add_mailing(now - timedelta(minutes=1), now + timedelta(days=1), window=("09:00", "21:00"))
    message_id = sql("INSERT INTO notifications.messages (mailing_id, client_id) VALUES (%s, %s) RETURNING id",
                     mailing["id"], client)[0][0]
    assert sender.handle(sender_settings, provider, message_id, Clock(now)) == "deferred"
    sqs = boto3.client("sqs", endpoint_url=aws_endpoint, region_name="us-east-1")
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"
    assert emulator.requests == [] and status(sql, message_id)[0] == "processing"
    # At the opening it goes.
    assert sender.handle(sender_settings, provider, message_id, Clock(now + timedelta(hours=3))) == "sent"


def test_a_window_that_never_opens_before_the_end_expires(sql, clean, sender_settings, provider, emulator):
    now = datetime(2030, 6, 3, 3, 0, tzinfo=UTC)             # 06:00 in Moscow, window 09-21, end at 08:00
    [client] = add_clients(sql, [("79161234567", "", "Europe/Moscow")])
    mailing = add_mailing(now - timedelta(minutes=1), now + timedelta(hours=2), window=("09:00", "21:00"))
    message_id = sql("INSERT INTO notifications.messages (mailing_id, client_id) VALUES (%s, %s) RETURNING id",
                     mailing["id"], client)[0][0]
    assert sender.handle(sender_settings, provider, message_id, Clock(now)) == "expired"
    assert emulator.requests == []


def test_failures_retry_with_backoff_then_succeed(sql, one, sender_settings, provider, emulator):
    message_id = one[0]
    emulator.configure(fail_next=2)
    for attempt in (1, 2):
        with pytest.raises(batch.Retry) as retry:
            sender.handle(sender_settings, provider, message_id, Clock(datetime.now(UTC)))
        assert "HTTP 500" in str(retry.value)
        # common.batch's jittered backoff, by the message's own attempts (not its receives, which deaths spend too)
        low, high = batch.Backoff(rng=lambda: 0.0)(attempt), batch.Backoff(rng=lambda: 1.0)(attempt)
        assert low <= retry.value.delay <= high
        assert status(sql, message_id)[:2] == ("processing", attempt)
    assert sender.handle(sender_settings, provider, message_id, Clock(datetime.now(UTC))) == "sent"
    assert status(sql, message_id)[:3] == ("sent", 3, None)
    assert emulator.deliveries(message_id) == 1


def test_a_hanging_provider_times_out_and_is_retried(sql, one, sender_settings, provider, emulator):
    message_id = one[0]
    emulator.configure(hang_next=1, hang_seconds=5)
    with pytest.raises(batch.Retry, match="timed out"):
        sender.handle(sender_settings, provider, message_id, Clock(datetime.now(UTC)))
    assert sender.handle(sender_settings, provider, message_id, Clock(datetime.now(UTC))) == "sent"


def test_after_the_last_attempt_the_message_is_an_error_with_the_reason(
        sql, one, sender_settings, provider, emulator):
    message_id = one[0]
    emulator.configure(failure_rate=1.0)
    for _ in range(sender_settings.max_attempts - 1):
        with pytest.raises(batch.Retry):
            sender.handle(sender_settings, provider, message_id, Clock(datetime.now(UTC)))
    assert sender.handle(sender_settings, provider, message_id, Clock(datetime.now(UTC))) == "error"
    state, attempts, error, _sent = status(sql, message_id)
    assert (state, attempts) == ("error", 3) and "HTTP 500" in error and "attempt 3 of 3" in error
    assert sender.handle(sender_settings, provider, message_id, Clock(datetime.now(UTC))) == "done"
    assert len(emulator.requests) == 3


def test_a_refusal_is_final_at_once(sql, one, sender_settings, provider, emulator):
    message_id = one[0]
    emulator.configure(fail_next=1, fail_status=400)
    assert sender.handle(sender_settings, provider, message_id, Clock(datetime.now(UTC))) == "error"
    assert len(emulator.requests) == 1


def test_a_wrong_jwt_is_refused_by_the_provider_and_never_logged(sql, one, sender_settings, emulator, capsys, caplog):
    from functions.notifications.chalicelib.sending.provider import Provider
    message_id = one[0]
    wrong = Provider(emulator.url, JWT + "x", 1, 1)
    caplog.set_level(logging.DEBUG)
    assert sender.handle(sender_settings, wrong, message_id, Clock(datetime.now(UTC))) == "error"
    assert emulator.requests[-1]["status"] == 401
    assert JWT not in repr(wrong)
    out = capsys.readouterr()
    assert JWT not in out.out + out.err + caplog.text
    assert "HTTP 401" in status(sql, message_id)[2]


def test_gone_and_unusable_records(sql, clean, sender_settings, provider, emulator):
    assert sender.handle(sender_settings, provider, 987654, Clock(datetime.now(UTC))) == "gone"
    for unusable in ("not json", json.dumps({"message_id": -1})):
        with pytest.raises(BadMessage):
            SendMessage.parse(unusable)
    assert SendMessage.parse(json.dumps({"message_id": 5})).message_id == 5


def test_two_deliveries_at_once_send_once(sql, one, sender_settings, emulator):
    """SQS may hand the same message to two senders at the same moment: only the one holding the claim calls."""
    import threading
    from functions.notifications.chalicelib.sending.provider import Provider
    message_id = one[0]
    emulator.configure(latency=0.5)
    outcomes, barrier = [], threading.Barrier(4)

    def deliver():
        provider = Provider(emulator.url, JWT, 2, 2)
        barrier.wait()
        try:
            outcomes.append(sender.handle(sender_settings, provider, message_id, lambda: datetime.now(UTC)))
        except batch.Retry:
            outcomes.append("retry")
    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("sent") == 1 and len(outcomes) == 4
    assert emulator.deliveries(message_id) == 1 and len(emulator.requests) == 1
