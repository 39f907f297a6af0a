"""Through the local cloud: form -> queue -> sender -> ChatApp emulator -> webhook -> page; handler retries."""
import json

import boto3
import pytest
import requests

from broadcast_helpers import PASSWORD, USER, csrf, sqs_record, store_broadcast, wait_for
from broadcast_site import broadcast_id, statuses, text_of

NUMBERS = ["79991234567", "79991234568", "79991234569"]


def _post(http, base, text, numbers):
    return broadcast_id(http.post(base + "/broadcasts", data={"text": text, "numbers": numbers, "csrf": csrf(base)},
                                  allow_redirects=False, timeout=60))


def _page(http, base, bid):
    return http.get(f"{base}/prod/broadcasts/{bid}", timeout=30).text


def _wait_statuses(http, base, bid, expected, timeout=30):
    return wait_for(lambda: (lambda page: page if statuses(page) == expected else None)(_page(http, base, bid)),
                    timeout, interval=0.3, what=f"statuses {expected}")


def test_form_to_queue_to_chatapp_to_webhook_to_read_on_the_page(live_site, emulator, http, sql):
    bid = _post(http, live_site, "Summer sale: -20% today", "\n".join(NUMBERS))
    page = _wait_statuses(http, live_site, bid, {n: "read" for n in NUMBERS})
    assert "read 3" in text_of(page) and '<meta http-equiv="refresh"' not in page
    sends = emulator.sends()
    assert sorted(r["path"].split("/")[-3] for r in sends) == NUMBERS          # each number exactly once
    assert {r["json"]["text"] for r in sends} == {"Summer sale: -20% today"}
    assert len(emulator.calls("POST", "/v1/tokens")) == 1
    assert emulator.callbacks["100001"]["url"].startswith(live_site + "/prod/webhooks/chatapp?secret=")
    assert {w["status"] for w in emulator.webhooks} == {200}
    for row in sql("SELECT * FROM broadcast_recipients WHERE broadcast_id = %s", bid):
        # The message left the queue no earlier than its own delay after the form post (when it was stored).
        assert (row["sending_at"] - row["queued_at"]).total_seconds() >= row["delay_seconds"]
        assert row["queued_at"] <= row["enqueued_at"] <= row["sending_at"] <= row["sent_at"]
        # ChatApp's event times are whole unix seconds.
        assert row["sent_at"].replace(microsecond=0) <= row["delivered_at"] <= row["read_at"]


def test_chatapp_refusing_a_number_shows_not_sent_with_its_reason(live_site, emulator, http):
    emulator.fail(phone=NUMBERS[1], code="ApiChatNotFoundError", message="This number has no WhatsApp", status=400)
    bid = _post(http, live_site, "Hello", "\n".join(NUMBERS))
    page = _wait_statuses(http, live_site, bid, {NUMBERS[0]: "read", NUMBERS[1]: "not_sent", NUMBERS[2]: "read"})
    assert "ApiChatNotFoundError: This number has no WhatsApp" in text_of(page)


def test_a_failure_reported_by_webhook_shows_failed(live_site, emulator, http):
    emulator.fail(phone=NUMBERS[0], via="webhook", code="MessageUndeliverable", message="Blocked by the user")
    bid = _post(http, live_site, "Hello", NUMBERS[0])
    page = _wait_statuses(http, live_site, bid, {NUMBERS[0]: "failed"})
    assert "MessageUndeliverable: Blocked by the user" in text_of(page)


@pytest.fixture
def stored_recipient(emulator):
    """A recipient stored without a queue message, so only the test's own invocations send it."""
    _bid, [rid] = store_broadcast("+79991234567", text="direct")
    return rid


def test_a_redelivered_sqs_message_sends_once(cloud, emulator, stored_recipient, sql):
    event = {"Records": [sqs_record({"recipient": stored_recipient}, "msg-1")]}
    assert cloud.invoke("BroadcastSenderFunction", event) == {"batchItemFailures": []}
    redelivered = {"Records": [sqs_record({"recipient": stored_recipient}, "msg-1", receive_count=2)]}
    assert cloud.invoke("BroadcastSenderFunction", redelivered) == {"batchItemFailures": []}
    assert cloud.invoke("BroadcastSenderFunction", event) == {"batchItemFailures": []}
    assert len(emulator.sends()) == 1
    assert sql("SELECT status FROM broadcast_recipients WHERE id = %s", stored_recipient)[0]["status"] == "sent"


def test_a_5xx_leaves_the_record_for_redelivery_then_it_is_sent(cloud, emulator, stored_recipient, sql):
    emulator.fail(next=1, status=503, code="ServiceUnavailable", message="maintenance")
    other = sqs_record("not json at all", "poison")
    event = {"Records": [sqs_record({"recipient": stored_recipient}, "msg-1"), other]}
    assert cloud.invoke("BroadcastSenderFunction", event) == {"batchItemFailures": [{"itemIdentifier": "msg-1"}]}
    row = sql("SELECT status, error_message FROM broadcast_recipients WHERE id = %s", stored_recipient)[0]
    assert row == {"status": "queued", "error_message": "retrying: maintenance"}
    again = {"Records": [sqs_record({"recipient": stored_recipient}, "msg-1", receive_count=2)]}
    assert cloud.invoke("BroadcastSenderFunction", again) == {"batchItemFailures": []}
    assert sql("SELECT status FROM broadcast_recipients WHERE id = %s", stored_recipient)[0]["status"] == "sent"


def test_the_default_delay_range_through_the_web_function(start_cloud, emulator, aws_endpoint, sql):
    """With the template's default BroadcastDelayRange the stored and queued delays are 5-50 s."""
    web_only = start_cloud(functions=["BroadcastWebFunction"], parameters={
        "BroadcastUser": USER, "BroadcastPassword": PASSWORD})
    numbers = "\n".join(f"+7999{n:07d}" for n in range(300))
    web_site = web_only.api_url("BroadcastApi")
    resp = requests.post(web_site + "/broadcasts", auth=(USER, PASSWORD), allow_redirects=False, timeout=60,
                         data={"text": "hi", "numbers": numbers, "csrf": csrf(web_site)})
    bid = broadcast_id(resp)
    rows = sql("SELECT id, delay_seconds FROM broadcast_recipients WHERE broadcast_id = %s", bid)
    delays, ids = [r["delay_seconds"] for r in rows], [r["id"] for r in rows]
    assert len(delays) == 300 and min(delays) >= 5 and max(delays) <= 50
    assert min(delays) <= 10 and max(delays) >= 45          # spread over the whole range
    sqs = boto3.client("sqs", endpoint_url=aws_endpoint, region_name="us-east-1")
    jobs = sqs.receive_message(QueueUrl=web_only.physical_id("BroadcastSendQueue"), MaxNumberOfMessages=10,
                               WaitTimeSeconds=1).get("Messages", [])
    assert [json.loads(m["Body"]) for m in jobs] == [{"broadcast": bid, "ids": [min(ids), max(ids)]}]


SCHEDULED_EVENT = {"version": "0", "id": "e1", "detail-type": "Scheduled Event", "source": "aws.events",
                   "account": "123456789012", "time": "2026-11-23T12:00:00Z", "region": "us-east-1",
                   "resources": ["arn:aws:events:us-east-1:123456789012:rule/hourly"], "detail": {}}


def test_the_hourly_run_gets_tokens_ahead_and_requeues_stranded_recipients(cloud, live_site, emulator, sql):
    bid, [rid, expired, never] = store_broadcast("+79991234567\n+79991234568\n+79991234569", delays=[1, 1, 1])
    sql("UPDATE broadcast_recipients SET queued_at = queued_at - INTERVAL 2 HOUR WHERE id = %s", rid)
    # Its message was sent longer ago than the queue keeps one (the template's 4 h + the sweep's margin).
    sql("UPDATE broadcast_recipients SET enqueued_at = queued_at - INTERVAL 5 HOUR WHERE id = %s", expired)
    # Never queued for as long: given up, not queued again (only rid is re-queued).
    sql("UPDATE broadcast_recipients SET queued_at = queued_at - INTERVAL 5 HOUR WHERE id = %s", never)
    result = cloud.invoke("BroadcastMaintenanceFunction", SCHEDULED_EVENT)
    assert result == {"tokens_renewed": True, "requeued": 1, "login_records_purged": 0, "expired": 1,
                      "never_queued": 1, "interrupted": 0}
    assert sql("SELECT status, error_code FROM broadcast_recipients WHERE id IN (%s, %s) ORDER BY id",
               expired, never) == [{"status": "not_sent", "error_code": "Expired"},
                                   {"status": "not_sent", "error_code": "NeverQueued"}]
    assert len(emulator.calls("POST", "/v1/tokens")) == 1
    assert emulator.callbacks["100001"]["url"].startswith(live_site + "/prod/webhooks/chatapp")
    wait_for(lambda: sql("SELECT status FROM broadcast_recipients WHERE id = %s", rid)[0]["status"] == "read",
             20, what="the stranded recipient to be sent and read")
    assert cloud.invoke("BroadcastMaintenanceFunction", SCHEDULED_EVENT) == \
        {"tokens_renewed": False, "requeued": 0, "login_records_purged": 0, "expired": 0, "never_queued": 0,
         "interrupted": 0}
    assert len(emulator.calls("POST", "/v1/tokens")) == 1 and len(emulator.calls("POST", "/v1/tokens/refresh")) == 0


def test_a_batch_with_one_failed_send_reports_only_that_record(cloud, emulator, sql):
    _bid, ids = store_broadcast("\n".join(NUMBERS), text="batch")
    emulator.fail(phone=NUMBERS[1], status=503, code="ServiceUnavailable", message="maintenance", times=1)
    event = {"Records": [sqs_record({"recipient": rid}, f"msg-{n}") for n, rid in enumerate(ids)]}
    assert cloud.invoke("BroadcastSenderFunction", event) == {"batchItemFailures": [{"itemIdentifier": "msg-1"}]}
    again = {"Records": [sqs_record({"recipient": rid}, f"msg-{n}", receive_count=2) for n, rid in enumerate(ids)]}
    assert cloud.invoke("BroadcastSenderFunction", again) == {"batchItemFailures": []}
    assert sorted(r["path"].split("/")[-3] for r in emulator.sends()) == sorted(NUMBERS + [NUMBERS[1]])
    rows = sql("SELECT status, attempts, message_id FROM broadcast_recipients WHERE id IN %s ORDER BY id", tuple(ids))
    assert [r["attempts"] for r in rows] == [1, 2, 1] and all(r["message_id"] for r in rows)
    # (the emulator's status webhooks may already have moved a row on from 'sent')
    assert {r["status"] for r in rows} <= {"sent", "delivered", "read"}


def test_a_duplicate_of_a_running_send_comes_back_unless_it_is_the_last_receive(cloud, emulator, sql):
    """Coming back after its last receive would only put the message in the DLQ with the row 'sending': it is
    left to the delivery sending it (or to the sweep, if that one died)."""
    _bid, [rid] = store_broadcast("+79991234567", text="running")
    sql("UPDATE broadcast_recipients SET status = 'sending', sending_at = UTC_TIMESTAMP(3) WHERE id = %s", rid)
    early = {"Records": [sqs_record({"recipient": rid}, "msg-1", receive_count=9)]}
    assert cloud.invoke("BroadcastSenderFunction", early) == {"batchItemFailures": [{"itemIdentifier": "msg-1"}]}
    last = {"Records": [sqs_record({"recipient": rid}, "msg-1", receive_count=10)]}  # template: maxReceiveCount
    assert cloud.invoke("BroadcastSenderFunction", last) == {"batchItemFailures": []}
    assert sql("SELECT status FROM broadcast_recipients WHERE id = %s", rid)[0]["status"] == "sending"
    assert emulator.sends() == []
