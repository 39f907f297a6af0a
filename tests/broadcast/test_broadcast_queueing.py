"""From stored recipients to SQS: random 5-50 s delays, batches of 10, Failed entries retried, the real queue.

The normal path goes to a real (moto) queue and is read back from it; the in-process stand-in only injects the
failures a real queue cannot be made to produce on demand."""
import json
import random
import threading
import time
from collections import Counter
from datetime import timedelta

import boto3
import pytest

from common.settings import SettingError
from common import queue as sqs_queue
from functions.broadcast.chalicelib import fanout, pacing, phones, queue_messages, settings
from functions.broadcast.chalicelib.clock import utcnow

from broadcast_helpers import UNUSED_QUEUE, store_broadcast, wait_for


class RecordingSqs:
    """Stands in for the SQS client: records every SendMessageBatch; can fail chosen bodies a number of times."""

    def __init__(self, fail_times=None, sender_fault=False):
        self.calls, self.lock = [], threading.Lock()
        self.fail_times = dict(fail_times or {})    # body -> how many more times to report it Failed
        self.sender_fault = sender_fault

    def send_message_batch(self, QueueUrl, Entries):
        assert 1 <= len(Entries) <= 10
        with self.lock:
            self.calls.append([dict(e) for e in Entries])
            failed = [e for e in Entries if self.fail_times.get(e["MessageBody"], 0) > 0]
            for entry in failed:
                self.fail_times[entry["MessageBody"]] -= 1
        return {"Successful": [{"Id": e["Id"], "MessageId": "x"} for e in Entries if e not in failed],
                "Failed": [{"Id": e["Id"], "Code": "InternalError", "Message": "try again",
                            "SenderFault": self.sender_fault} for e in failed]}

    def sent_bodies(self):
        return [e["MessageBody"] for call in self.calls for e in call]


class SpySqs:
    """The real SQS client with every SendMessageBatch entry recorded (a queued message's DelaySeconds cannot
    be read back from the queue)."""

    def __init__(self, real):
        self.real, self.calls, self.lock = real, [], threading.Lock()

    def send_message_batch(self, QueueUrl, Entries):
        with self.lock:
            self.calls.append([dict(e) for e in Entries])
        return self.real.send_message_batch(QueueUrl=QueueUrl, Entries=Entries)


@pytest.fixture
def spy(monkeypatch, aws_endpoint):
    recorder = SpySqs(sqs_queue.client())
    monkeypatch.setattr(sqs_queue, "client", lambda: recorder)
    return recorder


def drain(queue_url, expected, timeout=30.0):
    """The bodies of the `expected` messages on the queue (deleted as they are read); fails if fewer arrive
    in time or the queue still holds anything afterwards (visible, delayed or in flight)."""
    client, bodies = boto3.client("sqs"), []
    deadline = time.monotonic() + timeout
    while len(bodies) < expected and time.monotonic() < deadline:
        messages = client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                          VisibilityTimeout=60).get("Messages", [])
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            client.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    assert len(bodies) == expected, f"{len(bodies)} of {expected} messages arrived in {timeout}s"
    assert held(queue_url) == (0, 0, 0)
    return bodies


def held(queue_url):
    """(visible, delayed, in flight) message counts of a queue."""
    found = boto3.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed",
        "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return (int(found["ApproximateNumberOfMessages"]), int(found["ApproximateNumberOfMessagesDelayed"]),
            int(found["ApproximateNumberOfMessagesNotVisible"]))


def _store(count, delay_range=(5, 50), rng=None):
    """(broadcast id, recipient ids) of a stored broadcast with count numbers."""
    numbers = [phones.Number(1, f"+7999{n:07d}", f"7999{n:07d}") for n in range(count)]
    return store_broadcast(numbers, pacing.choose_delays(count, delay_range, rng or random))


def _expand(settings, bid, ids):
    return fanout.expand(settings, bid, min(ids), max(ids))


def test_default_delay_range_is_5_to_50_seconds():
    assert settings.read({"BROADCAST_QUEUE_URL": UNUSED_QUEUE}).delay_range == (5, 50)
    delays = pacing.choose_delays(10000, settings.read({"BROADCAST_QUEUE_URL": UNUSED_QUEUE}).delay_range)
    assert min(delays) == 5 and max(delays) == 50
    counts = Counter(delays)
    assert set(counts) == set(range(5, 51))            # every value in the range is used...
    assert max(counts.values()) < 2 * min(counts.values())    # ...about equally often


def test_delay_range_setting_is_checked():
    assert settings.parse_delay_range(" 1 - 3 ") == (1, 3)
    for bad in ("50-5", "x", "0-901", "5"):
        with pytest.raises(SettingError, match="BROADCAST_DELAY_RANGE"):
            settings.parse_delay_range(bad)
    with pytest.raises(SettingError, match="BROADCAST_DELAY_RANGE"):
        settings.read({"BROADCAST_QUEUE_URL": UNUSED_QUEUE, "BROADCAST_DELAY_RANGE": "9-1"})


def test_a_missing_setting_fails_fast_by_name():
    with pytest.raises(SettingError, match="BROADCAST_QUEUE_URL"):
        settings.read({})
    with pytest.raises(SettingError, match="CHATAPP_BASE_URL"):      # no local default for the ChatApp address
        settings.read_chatapp({"CHATAPP_EMAIL": "a@example.com"})
    with pytest.raises(SettingError, match="BROADCAST_MAX_RECEIVES"):
        settings.read({"BROADCAST_QUEUE_URL": UNUSED_QUEUE, "BROADCAST_MAX_RECEIVES": "0"})


def test_queue_messages_are_built_and_recognised_in_one_place():
    assert queue_messages.parse(queue_messages.FanoutJob(7, 10, 509).body()) == queue_messages.FanoutJob(7, 10, 509)
    assert queue_messages.parse(queue_messages.Send(42).body()) == queue_messages.Send(42)
    for body in ("not json", "[]", '{"recipient": "42"}', '{"recipient": true}', '{"broadcast": 1, "ids": [1]}',
                 '{"broadcast": 1, "ids": [1, "2"]}', "{}", None):
        with pytest.raises(queue_messages.BadMessage):
            queue_messages.parse(body)


def test_expand_sends_one_message_per_recipient_with_its_stored_delay(clean_db, make_settings, sql, spy, queue):
    bid, ids = _store(1234, delay_range=(0, 2))        # short delays: all of them visible within seconds
    config = make_settings(broadcast_queue_url=queue)
    # The fan-out runs "at the post": under load storing 1,234 rows can take over a second, and a later fan-out
    # rightly sends less of each delay (the next test checks that part).
    [posted] = {r["queued_at"] for r in sql("SELECT queued_at FROM broadcast_recipients")}
    assert fanout.expand(config, bid, min(ids), max(ids), now=posted) == []
    stored = {r["id"]: r["delay_seconds"] for r in sql("SELECT id, delay_seconds FROM broadcast_recipients")}
    sent = {json.loads(e["MessageBody"])["recipient"]: e["DelaySeconds"] for call in spy.calls for e in call}
    assert sent == stored and set(stored) == set(ids)
    assert set(sent.values()) == {0, 1, 2}
    assert len(spy.calls) == 124                       # ceil(1234 / 10) SendMessageBatch calls
    assert sql("SELECT COUNT(*) AS n FROM broadcast_recipients WHERE enqueued_at IS NULL")[0]["n"] == 0
    # Every accepted entry is on the real queue, once (reading 1,234 bodies back is slow on moto: counted).
    assert wait_for(lambda: held(queue) == (1234, 0, 0), what="1234 visible messages")
    assert fanout.expand(config, bid, min(ids), max(ids), now=posted) == []    # a redelivered job: nothing twice
    assert len(spy.calls) == 124 and held(queue) == (1234, 0, 0)


def test_a_delay_counts_from_the_form_post_not_from_the_fan_out(clean_db, make_settings, sql, spy, queue):
    """A job that runs 3.4 s after the post queues each message with what is left of its delay (rounded up)."""
    bid, ids = _store(40, delay_range=(0, 9))
    rows = sql("SELECT id, delay_seconds, queued_at FROM broadcast_recipients WHERE broadcast_id = %s", bid)
    [queued_at] = {r["queued_at"] for r in rows}
    assert fanout.expand(make_settings(broadcast_queue_url=queue), bid, min(ids), max(ids),
                         now=queued_at + timedelta(seconds=3.4)) == []
    sent = {json.loads(e["MessageBody"])["recipient"]: e["DelaySeconds"] for call in spy.calls for e in call}
    assert sent == {r["id"]: max(0, r["delay_seconds"] - 3) for r in rows}
    assert fanout.remaining_delay({"delay_seconds": 50, "queued_at": queued_at}, queued_at) == 50
    assert fanout.remaining_delay({"delay_seconds": 50, "queued_at": queued_at}, queued_at - timedelta(seconds=2)) == 50


def test_failed_entries_are_sent_again(clean_db, make_settings, sql, monkeypatch):
    bid, ids = _store(25)
    flaky = {json.dumps({"recipient": ids[3]}): 2, json.dumps({"recipient": ids[17]}): 1}
    fake = RecordingSqs(fail_times=flaky)
    monkeypatch.setattr(sqs_queue, "client", lambda: fake)
    assert _expand(make_settings(), bid, ids) == []
    bodies = Counter(fake.sent_bodies())
    assert bodies[json.dumps({"recipient": ids[3]})] == 3 and bodies[json.dumps({"recipient": ids[17]})] == 2
    assert sum(bodies.values()) == 25 + 3


def test_entries_that_keep_failing_are_reported_and_stay_unqueued(clean_db, make_settings, sql, monkeypatch):
    bid, ids = _store(12)
    fake = RecordingSqs(fail_times={json.dumps({"recipient": ids[5]}): 99})
    monkeypatch.setattr(sqs_queue, "client", lambda: fake)
    assert _expand(make_settings(), bid, ids) == [ids[5]]
    assert [r["id"] for r in sql("SELECT id FROM broadcast_recipients WHERE enqueued_at IS NULL")] == [ids[5]]


def test_sender_fault_entries_are_not_retried(clean_db, make_settings, monkeypatch):
    bid, ids = _store(3)
    fake = RecordingSqs(fail_times={json.dumps({"recipient": ids[0]}): 99}, sender_fault=True)
    monkeypatch.setattr(sqs_queue, "client", lambda: fake)
    assert _expand(make_settings(), bid, ids) == [ids[0]]
    assert len(fake.calls) == 1


def test_jobs_of_500_ids_and_not_sent_when_the_queue_is_down(clean_db, make_settings, sql, monkeypatch, queue):
    bid, ids = _store(1201)
    assert fanout.enqueue_jobs(make_settings(broadcast_queue_url=queue), bid, min(ids), max(ids)) == 0
    jobs = sorted(drain(queue, 3), key=lambda job: job["ids"])
    low = min(ids)
    assert jobs == [{"broadcast": bid, "ids": [low, low + 499]}, {"broadcast": bid, "ids": [low + 500, low + 999]},
                    {"broadcast": bid, "ids": [low + 1000, low + 1200]}]

    down = make_settings(broadcast_queue_url="http://127.0.0.1:9/000000000000/nowhere")
    monkeypatch.setattr(sqs_queue, "client", lambda: boto3.client("sqs", endpoint_url="http://127.0.0.1:9",
                                                                  region_name="us-east-1"))
    bid, ids = _store(3)
    assert fanout.enqueue_jobs(down, bid, min(ids), max(ids)) == 1
    rows = sql("SELECT status, error_message FROM broadcast_recipients WHERE broadcast_id = %s", bid)
    assert {r["status"] for r in rows} == {"not_sent"}
    assert rows[0]["error_message"].startswith("could not queue the message: queue unavailable")


def test_a_job_only_touches_its_own_broadcast(clean_db, make_settings, sql, queue):
    first, first_ids = _store(3, delay_range=(0, 0))
    second, second_ids = _store(3, delay_range=(0, 0))
    assert fanout.expand(make_settings(broadcast_queue_url=queue), first, min(first_ids), max(second_ids)) == []
    assert sorted(body["recipient"] for body in drain(queue, 3)) == first_ids
    assert sql("SELECT COUNT(*) AS n FROM broadcast_recipients WHERE broadcast_id = %s AND enqueued_at IS NULL",
               second)[0]["n"] == 3


def test_stranded_recipients_get_a_new_job(clean_db, make_settings, sql, queue):
    config = make_settings(broadcast_queue_url=queue)
    bid, ids = _store(3)
    assert fanout.requeue_stranded(config) == 0          # too young to be stranded
    assert drain(queue, 0) == []
    sql("UPDATE broadcast_recipients SET queued_at = %s", utcnow() - timedelta(hours=1))
    assert fanout.requeue_stranded(config) == 3
    assert drain(queue, 1) == [{"broadcast": bid, "ids": [min(ids), max(ids)]}]


def test_the_real_queue_holds_each_message_until_its_delay(clean_db, make_settings, queue, aws_endpoint):
    """Default 5-50 s delays through moto's SQS: nothing is receivable before its own delay has passed."""
    bid, ids = _store(40, settings.read({"BROADCAST_QUEUE_URL": UNUSED_QUEUE}).delay_range, random.Random(1))
    delays = dict(zip(ids, pacing.choose_delays(40, (5, 50), random.Random(1))))
    assert min(delays.values()) == 5                  # seed chosen so some are due as early as allowed
    started = time.time()
    assert _expand(make_settings(broadcast_queue_url=queue), bid, ids) == []
    client = boto3.client("sqs", endpoint_url=aws_endpoint, region_name="us-east-1")
    received = {}
    # Poll until the first messages are due and have arrived (a generous deadline: late is allowed, early is not).
    while not received and time.time() - started < min(delays.values()) + 40:
        for message in client.receive_message(QueueUrl=queue, MaxNumberOfMessages=10,
                                              WaitTimeSeconds=0).get("Messages", []):
            received[json.loads(message["Body"])["recipient"]] = time.time() - started
        time.sleep(0.1)
    assert received, "nothing arrived although some delays were due"
    for recipient_id, after in received.items():
        assert after >= delays[recipient_id], f"arrived after {after:.1f}s, delay {delays[recipient_id]}s"
    assert min(received.values()) >= 5
