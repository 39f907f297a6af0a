"""Dispatch: filters, idempotent message creation, one dispatcher at a time, a dead dispatcher's lease,
windows at dispatch time (delays, expiry), a mailing that ended before it could start."""
import threading
from datetime import datetime, timedelta, timezone

import pytest

from common import queue as common_queue
from functions.notifications.chalicelib.dispatch import dispatcher

from notifications_helpers import add_clients, add_mailing, messages

NOW = datetime(2030, 6, 3, 9, 0, tzinfo=timezone.utc)        # 12:00 in Moscow
CLIENTS = [("79161110001", "vip", "Europe/Moscow"), ("79161110002", "", "Europe/Moscow"),
           ("79261110003", "vip", "Asia/Vladivostok"), ("79031110004", "new", "Europe/Moscow"),
           ("79031110005", "vip", "Europe/Kaliningrad")]


@pytest.fixture
def clients(sql, clean):
    return add_clients(sql, CLIENTS)


def dispatch_now(settings, mailing, now=NOW):
    return dispatcher.dispatch(settings, mailing["id"], now)


@pytest.mark.parametrize("codes, tags, expected", [
    ((), (), [0, 1, 2, 3, 4]),
    (("916",), (), [0, 1]),
    ((), ("vip",), [0, 2, 4]),
    (("916", "903"), ("vip",), [0, 4]),
    (("999",), (), []),
    ((), ("vip", "new"), [0, 2, 3, 4]),
])
def test_filter_by_operator_code_and_tag(sql, clients, dispatch_settings, drain, queue, codes, tags, expected):
    mailing = add_mailing(NOW - timedelta(minutes=1), NOW + timedelta(hours=1), codes=codes, tags=tags)
    assert dispatch_now(dispatch_settings, mailing) == len(expected)
    assert sorted(messages(sql, mailing["id"])) == sorted(clients[i] for i in expected)
    queued = drain(queue)
    assert sorted(m["client_id"] for m in queued) == sorted(clients[i] for i in expected)
    assert all(m["mailing_id"] == mailing["id"] for m in queued)


def test_not_due_before_its_start_and_done_only_once(sql, clients, dispatch_settings, drain, queue):
    mailing = add_mailing(NOW + timedelta(minutes=5), NOW + timedelta(hours=1))
    assert dispatch_now(dispatch_settings, mailing) is None
    assert messages(sql, mailing["id"]) == {}
    later = NOW + timedelta(minutes=5)
    assert dispatcher.due_mailings(later) == [mailing["id"]]
    assert dispatch_now(dispatch_settings, mailing, later) == 5
    assert dispatch_now(dispatch_settings, mailing, later + timedelta(seconds=1)) is None   # redelivered trigger
    assert dispatcher.due_mailings(later) == []
    assert len(drain(queue)) == 5
    assert sql("SELECT dispatch_state FROM notifications.mailings WHERE id = %s", mailing["id"]) == [("done",)]


def test_two_dispatches_at_once_create_and_queue_each_message_once(sql, clients, dispatch_settings, drain, queue):
    mailing = add_mailing(NOW - timedelta(minutes=1), NOW + timedelta(hours=1))
    results, barrier = [], threading.Barrier(4)

    def run():
        barrier.wait()
        results.append(dispatch_now(dispatch_settings, mailing))
    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=str) == [5, None, None, None]
    assert len(messages(sql, mailing["id"])) == 5
    assert sorted(m["client_id"] for m in drain(queue)) == sorted(clients)


def test_a_dead_dispatchers_lease_lapses_and_the_next_one_queues_what_is_still_processing(
        sql, clients, dispatch_settings, drain, queue):
    mailing = add_mailing(NOW - timedelta(minutes=1), NOW + timedelta(hours=1))
    # A dispatcher that created two messages and died before queueing: its lease still runs, then lapses.
    sql("UPDATE notifications.mailings SET dispatch_state = 'dispatching', dispatch_lease = %s WHERE id = %s",
        NOW + timedelta(minutes=5), mailing["id"])
    sql("INSERT INTO notifications.messages (mailing_id, client_id) VALUES (%s, %s), (%s, %s)",
        mailing["id"], clients[0], mailing["id"], clients[1])
    sql("UPDATE notifications.messages SET status = 'sent' WHERE client_id = %s", clients[1])
    assert dispatch_now(dispatch_settings, mailing) is None                 # lease held: hands off
    assert dispatcher.due_mailings(NOW) == []
    later = NOW + timedelta(minutes=6)
    assert dispatcher.due_mailings(later) == [mailing["id"]]
    assert dispatch_now(dispatch_settings, mailing, later) == 4             # 3 new + the one left processing
    assert len(messages(sql, mailing["id"])) == 5
    assert sorted(m["client_id"] for m in drain(queue)) == sorted([clients[0]] + clients[2:])


def test_windows_at_dispatch_delay_or_expire(sql, clients, dispatch_settings, aws_endpoint, queue):
    import boto3
    # 09:00 UTC: 12:00 in Moscow, 11:00 in Kaliningrad (inside 10-18), 19:00 in Vladivostok (outside).
    mailing = add_mailing(NOW - timedelta(minutes=1), NOW + timedelta(hours=3), window=("10:00", "18:00"))
    assert dispatch_now(dispatch_settings, mailing) == 4
    states = messages(sql, mailing["id"])
    assert states[clients[2]] == ("expired", 0, dispatcher.CLOSED_REASON)     # opens tomorrow, after the end
    assert {states[c][0] for c in clients if c != clients[2]} == {"processing"}
    sqs = boto3.client("sqs", endpoint_url=aws_endpoint, region_name="us-east-1")
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert int(attributes["ApproximateNumberOfMessages"]) == 4


def test_delay_is_capped_at_sqs_maximum(clients):
    mailing = {"window_start": datetime(2000, 1, 1, 10).time(), "window_end": datetime(2000, 1, 1, 18).time(),
               "end_at": NOW + timedelta(days=3)}
    # 19:00 in Vladivostok: the window opens in 15 h; SQS waits 15 min at most, the sender defers the rest.
    assert dispatcher.delay_for(mailing, "Asia/Vladivostok", NOW) == 900
    assert dispatcher.delay_for(mailing, "Europe/Moscow", NOW) == 0
    assert dispatcher.delay_for(mailing, "Europe/Moscow", NOW.replace(hour=6, minute=50)) == 10 * 60


def test_a_mailing_that_ended_before_it_could_start_expires_everything(sql, clients, dispatch_settings, drain,
                                                                       queue):
    mailing = add_mailing(NOW - timedelta(hours=2), NOW - timedelta(hours=1))
    assert dispatch_now(dispatch_settings, mailing) == 0
    assert {v[0] for v in messages(sql, mailing["id"]).values()} == {"expired"}
    assert len(messages(sql, mailing["id"])) == 5
    assert drain(queue) == []


class _RefusingSqs:
    """The real (moto) SQS client, except that entries `refuse(call number, entry)` picks are not sent and come
    back in the answer's Failed list, as SQS reports a partial SendMessageBatch failure."""

    def __init__(self, real, refuse):
        self.real, self.refuse, self.calls = real, refuse, []

    def send_message_batch(self, QueueUrl, Entries):
        self.calls.append([e["Id"] for e in Entries])
        refused = [e for e in Entries if self.refuse(len(self.calls), e)]
        accepted = [e for e in Entries if e not in refused]
        answer = self.real.send_message_batch(QueueUrl=QueueUrl, Entries=accepted) if accepted else {}
        answer.setdefault("Failed", []).extend({"Id": e["Id"], "SenderFault": False, "Code": "InternalError",
                                                "Message": "injected"} for e in refused)
        return answer


def _messages(count):
    return [(n, f'{{"message_id": {n}}}', 0) for n in range(count)]


@pytest.fixture
def refusing_sqs(aws_endpoint):
    import boto3
    real = boto3.client("sqs", endpoint_url=aws_endpoint, region_name="us-east-1")
    return lambda refuse: _RefusingSqs(real, refuse)


def test_entries_sqs_reports_failed_are_sent_again_and_only_they(queue, drain, refusing_sqs):
    sqs = refusing_sqs(lambda call, entry: call == 1 and entry["Id"] in ("2", "5"))
    common_queue.send_all(queue, _messages(10), sqs=sqs, strict=True, sleep=lambda seconds: None)
    assert sqs.calls == [[str(n) for n in range(10)], ["2", "5"]]
    assert sorted(m["message_id"] for m in drain(queue)) == list(range(10))     # each exactly once


def test_an_entry_sqs_keeps_refusing_is_given_up_after_the_attempts(queue, drain, refusing_sqs):
    sqs = refusing_sqs(lambda call, entry: entry["Id"] == "3")
    with pytest.raises(common_queue.SendError, match="1 message"):
        common_queue.send_all(queue, _messages(6), sqs=sqs, strict=True, sleep=lambda seconds: None)
    assert sqs.calls == [[str(n) for n in range(6)]] + [["3"]] * (common_queue.ATTEMPTS - 1)
    assert sorted(m["message_id"] for m in drain(queue)) == [0, 1, 2, 4, 5]
