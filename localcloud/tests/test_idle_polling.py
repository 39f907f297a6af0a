"""A stack on this process's moto polls an idle queue without asking it: the pollers wait on the queue itself
(moto_patches.wait_until_receivable) and send a ReceiveMessage only once a message can be received."""
import threading
import time
import uuid

import boto3
import pytest

from localcloud import moto_patches
from localcloud.cloud import start_moto
from localcloud.model import SqsMapping
from localcloud.sqs_poller import SqsPoller
from recorder import Recorder

REGION = "us-east-1"
pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def moto():
    server, url = start_moto()
    yield url, boto3.client("sqs", region_name=REGION, endpoint_url=url, aws_access_key_id="testing",
                            aws_secret_access_key="testing")
    server.stop()


def make_queue(sqs, name=None, **attributes):
    return sqs.create_queue(QueueName=name or f"idle-{uuid.uuid4().hex[:8]}",
                            Attributes={k: str(v) for k, v in attributes.items()})["QueueUrl"]


def waiting(url, timeout=30.0):
    """wait_until_receivable in a thread: (thread, stop event, result list)."""
    stop, result = threading.Event(), []
    thread = threading.Thread(target=lambda: result.append(
        moto_patches.wait_until_receivable(url, REGION, timeout, stop)), daemon=True)
    thread.start()
    return thread, stop, result


def test_only_this_process_s_moto_servers_are_watched(moto):
    url, sqs = moto
    assert moto_patches.served_here(url) and moto_patches.served_here(make_queue(sqs))
    assert not moto_patches.served_here("http://127.0.0.1:1/123456789012/q")
    assert not moto_patches.served_here("https://sqs.us-east-1.amazonaws.com/123456789012/q")


def test_an_empty_queue_waits_out_its_timeout_and_a_sent_message_ends_the_wait(moto):
    _url, sqs = moto
    queue = make_queue(sqs)
    assert moto_patches.wait_until_receivable(queue, REGION, 0.2, threading.Event()) is False
    thread, _stop, result = waiting(queue)
    sqs.send_message(QueueUrl=queue, MessageBody="m")
    thread.join(20)     # far less than its 30 s: the message ended it
    assert result == [True]


def test_a_delayed_or_invisible_message_ends_the_wait_when_it_can_be_received_and_not_before(moto):
    _url, sqs = moto
    queue = make_queue(sqs)
    sent = time.time()
    sqs.send_message(QueueUrl=queue, MessageBody="later", DelaySeconds=2)
    assert moto_patches.wait_until_receivable(queue, REGION, 30, threading.Event()) is True
    assert time.time() - sent >= 2.0
    taken = sqs.receive_message(QueueUrl=queue, VisibilityTimeout=1)["Messages"]
    assert len(taken) == 1
    received = time.time()
    assert moto_patches.wait_until_receivable(queue, REGION, 30, threading.Event()) is True
    assert time.time() - received >= 0.9     # its visibility timeout (moto counts in milliseconds)


def test_stop_ends_the_wait_and_what_cannot_be_watched_is_left_to_a_receive(moto):
    _url, sqs = moto
    queue = make_queue(sqs)
    thread, stop, result = waiting(queue)
    stop.set()
    thread.join(20)
    assert result == [False]
    fifo = make_queue(sqs, name=f"idle-{uuid.uuid4().hex[:8]}.fifo", FifoQueue="true")
    gone = queue.rsplit("/", 1)[0] + "/no-such-queue"
    for url in (fifo, gone):
        assert moto_patches.wait_until_receivable(url, REGION, 30, threading.Event()) is True


def test_a_poller_with_a_doorbell_sends_no_receive_until_it_rings(moto):
    _url, sqs = moto
    queue = make_queue(sqs)
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    receives, rings, rang = [], [], threading.Event()
    client = boto3.client("sqs", region_name=REGION, endpoint_url=sqs.meta.endpoint_url,
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    client.meta.events.register("before-call.sqs.ReceiveMessage", lambda **_: receives.append(1))

    def doorbell(timeout, stop):
        rings.append(timeout)
        return rang.wait(0.05) and not stop.is_set()

    recorder = Recorder()
    poller = SqsPoller(SqsMapping("Fn", "Jobs", queue, queue_arn), recorder, client, region=REGION, ready=doorbell)
    poller.start()
    try:
        sqs.send_message(QueueUrl=queue, MessageBody="waits for the bell")
        deadline = time.monotonic() + 20
        while len(rings) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(rings) >= 5 and receives == [] and recorder.calls == []
        rang.set()
        recorder.wait_for(1)
        assert receives and recorder.events()[0]["Records"][0]["body"] == "waits for the bell"
    finally:
        poller.stop()


def test_every_change_to_scheduler_schedules_moves_the_count_and_reads_do_not(moto):
    url, _sqs = moto
    scheduler = boto3.client("scheduler", region_name=REGION, endpoint_url=url, aws_access_key_id="testing",
                             aws_secret_access_key="testing")
    name = f"idle-{uuid.uuid4().hex[:8]}"
    target = {"Arn": "arn:aws:lambda:us-east-1:123456789012:function:f",
              "RoleArn": "arn:aws:iam::123456789012:role/r", "Input": "{}"}
    counts = [moto_patches.schedule_changes()]

    def moved():
        counts.append(moto_patches.schedule_changes())
        return counts[-1] != counts[-2]

    scheduler.create_schedule(Name=name, ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "OFF"},
                              Target=target)
    assert moved()
    scheduler.list_schedules()
    scheduler.get_schedule(Name=name)
    assert not moved()
    scheduler.update_schedule(Name=name, ScheduleExpression="rate(2 hours)", FlexibleTimeWindow={"Mode": "OFF"},
                              Target=target)
    assert moved()
    scheduler.delete_schedule(Name=name)
    assert moved()
