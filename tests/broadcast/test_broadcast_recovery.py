"""A sender SIGKILLed in the middle of a ChatApp call (real processes, the local cloud): its recipient is final
within 90 s of the kill (issue 28), ChatApp got the message once, and nothing is left in the dead-letter queue."""
import os
import signal
import time
from pathlib import Path

import boto3
import pytest

from functions.broadcast.chalicelib import queue_messages
from waiting import wait_until

from broadcast_helpers import PASSWORD, SECRET, USER, store_broadcast

FAULTS = Path(__file__).resolve().parent / "broadcast_faults.py"
FINAL_WITHIN = 90   # seconds from the kill to a final status: issue 28's requirement
pytestmark = pytest.mark.timeout(300)


def queue_counts(sqs, url):
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_a_sender_killed_mid_call_ends_its_recipient_unknown_within_90_s_and_sends_once(
        start_cloud, emulator, sql, tmp_path):
    marker = tmp_path / "hung-sender.pid"
    cloud = start_cloud(functions=["BroadcastSenderFunction"],
                        parameters={"BroadcastUser": USER, "BroadcastPassword": PASSWORD,
                                    "BroadcastWebhookSecret": SECRET, "ChatAppBaseUrl": emulator.url},
                        env={"LOCAL_PRELOAD": str(FAULTS), "FAULT_HANG_AFTER_SEND_MARKER": str(marker)})
    sqs = boto3.client("sqs")
    queue, dlq = cloud.physical_id("BroadcastSendQueue"), cloud.physical_id("BroadcastSendDLQ")
    _bid, [rid] = store_broadcast("+79991234567", text="killed mid-call")
    sqs.send_message(QueueUrl=queue, MessageBody=queue_messages.Send(rid).body())

    pid = int(wait_until(lambda: marker.exists() and marker.read_text(), timeout=60, what="the sender in its call"))
    assert len(emulator.sends()) == 1          # the call reached ChatApp before the sender hung
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()

    def final():
        rows = sql("SELECT status, error_code FROM broadcast_recipients WHERE id = %s", rid)
        return rows[0] if rows[0]["status"] not in ("queued", "sending") else None
    # The deadline is the requirement: final within 90 s of the kill, not after the queue's 180 s.
    row = wait_until(final, timeout=FINAL_WITHIN, interval=0.5, what="the recipient final")
    print(f"recipient final {time.monotonic() - killed:.1f} s after the kill")
    # Maybe sent (ChatApp had it): 'unknown', never sent again.
    assert (row["status"], row["error_code"]) == ("unknown", "Interrupted")
    wait_until(lambda: queue_counts(sqs, queue) == (0, 0), timeout=60, what="the send queue drained")
    assert len(emulator.sends()) == 1
    assert queue_counts(sqs, dlq) == (0, 0)
