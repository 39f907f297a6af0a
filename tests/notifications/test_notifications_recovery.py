"""Deaths of the sender's process do not spend the attempts kept for failures of the message (issue 28).

The sender counts its own attempts (messages.attempts, taken with the claim right before the provider call);
the send queue's maxReceiveCount (template.yaml) is set well above NOTIFICATIONS_MAX_ATTEMPTS, so receives spent
by killed workers never send a message to the dead-letter queue before its attempts are used up. Real worker
processes of the local cloud, SIGKILLed through LOCAL_PRELOAD (tests/worker_kills.py) before the message is
read, the queue's settings as the template has them.
"""
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import pytest

from notifications_helpers import JWT, add_clients, add_mailing, messages, wait_until

FAULTS = str(Path(__file__).resolve().parent.parent / "worker_kills.py")
KILLS = 6     # more than maxReceiveCount - NOTIFICATIONS_MAX_ATTEMPTS of the queue before issue 28 (10 - 5)
MANY_KILLS = 12   # more than the queue's whole maxReceiveCount before issue 28 (10)


@pytest.fixture(scope="module")
def killing_cloud(start_cloud, emulator_server, tmp_path_factory):
    """The sender alone in a cloud of its own, killed on as many deliveries as the kills file says (none at
    first); (cloud, kills file). Stopped at the module's end: a retried message must not reach later tests' rows."""
    kills = tmp_path_factory.mktemp("notifications-kills") / "kills"
    kills.write_text("0")
    cloud = start_cloud(functions=["NotificationsSenderFunction"],
                        parameters={"NotificationsProviderBaseUrl": emulator_server.url,
                                    "NotificationsProviderJwt": JWT},
                        env={"LOCAL_PRELOAD": FAULTS, "FAULT_KILLS_FILE": str(kills),
                             "FAULT_KILL_TARGET": "chalicelib.sending.sender:handle"})
    yield cloud, kills
    start_cloud.stop([cloud])


def queue_message(sql, cloud, phone):
    """A client, a running mailing already dispatched (no sweep touches it) and its message, queued; returns
    (mailing id, client id)."""
    now = datetime.now(timezone.utc)
    [client] = add_clients(sql, [(phone, "recovery", "Europe/Moscow")])
    mailing = add_mailing(now - timedelta(minutes=1), now + timedelta(hours=1), text="После сбоя",
                          tags=["recovery"])
    sql("UPDATE notifications.mailings SET dispatch_state = 'done', dispatched_at = now() WHERE id = %s",
        mailing["id"])
    message_id = sql("INSERT INTO notifications.messages (mailing_id, client_id) VALUES (%s, %s) RETURNING id",
                     mailing["id"], client)[0][0]
    boto3.client("sqs").send_message(QueueUrl=cloud.physical_id("NotificationsSendQueue"), MessageBody=json.dumps(
        {"message_id": message_id, "mailing_id": mailing["id"], "client_id": client}))
    return mailing["id"], client


def dead_letters(cloud):
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=cloud.physical_id("NotificationsSendDLQ"),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return sum(int(v) for v in attributes.values())


def test_a_message_whose_sender_was_killed_again_and_again_is_still_sent(killing_cloud, emulator, sql):
    cloud, kills = killing_cloud
    kills.write_text(str(MANY_KILLS))
    mailing_id, client = queue_message(sql, cloud, "79161230001")
    wait_until(lambda: messages(sql, mailing_id)[client][0] != "processing", 90, "the message's outcome")
    assert kills.read_text() == "0"                              # every kill happened
    assert messages(sql, mailing_id)[client] == ("sent", 1, None)   # the deaths counted no attempt
    assert emulator.sends() and len(emulator.sends()) == 1
    assert dead_letters(cloud) == 0


def test_a_failing_message_still_gets_its_error_after_its_attempts_despite_the_deaths(killing_cloud, emulator, sql):
    cloud, kills = killing_cloud
    kills.write_text(str(KILLS))
    emulator.configure(fail_next=100)       # the provider refuses every call: the attempts run out
    mailing_id, client = queue_message(sql, cloud, "79161230002")
    wait_until(lambda: messages(sql, mailing_id)[client][0] != "processing", 90, "the message's outcome")
    status, attempts, error = messages(sql, mailing_id)[client]
    assert (status, attempts) == ("error", 5) and "(attempt 5 of 5)" in error
    assert kills.read_text() == "0"
    assert len(emulator.requests) == 5                           # one provider call per counted attempt
    assert dead_letters(cloud) == 0
