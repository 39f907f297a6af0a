"""The maintenance sweep's backstop (chalicelib/expiry.py): a recipient no queue message can reach any more is made
final, never one whose message may still arrive, and a message that turns up after all sends nothing."""
from datetime import timedelta

import pytest
from common.settings import SettingError

from functions.broadcast.chalicelib import broadcasts, expiry, pages, sender
from functions.broadcast.chalicelib.clock import utcnow
from localcloud.template import load

from broadcast_helpers import TEMPLATE, store_broadcast


def _set(sql, recipient_id, **columns):
    assignments = ", ".join(f"{name} = %s" for name in columns)
    sql(f"UPDATE broadcast_recipients SET {assignments} WHERE id = %s", *columns.values(), recipient_id)


def _row(sql, recipient_id):
    return sql("SELECT status, error_code, error_message, not_sent_at FROM broadcast_recipients WHERE id = %s",
               recipient_id)[0]


def test_the_sweep_makes_final_only_what_no_message_can_reach(emulator, make_settings, make_chatapp, sql):
    config = make_settings()
    now = utcnow()
    gone = now - timedelta(seconds=config.message_retention) - expiry.EXPIRY_MARGIN
    bid, ids = store_broadcast("\n".join(f"+7999123000{n}" for n in range(8)))
    expired, in_retention, recent, never_queued, unqueued, died, running, sent = ids
    _set(sql, expired, enqueued_at=gone - timedelta(minutes=1), queued_at=gone - timedelta(minutes=1))
    # Sent just inside the retention (plus the margin): SQS may still hold it, so it is left alone.
    _set(sql, in_retention, enqueued_at=gone + timedelta(minutes=1), queued_at=gone)
    _set(sql, recent, enqueued_at=now)
    # No message of its own for longer than one would live: its fan-out job kept failing. Given up.
    _set(sql, never_queued, queued_at=gone - timedelta(minutes=1))
    _set(sql, unqueued, queued_at=gone + timedelta(minutes=1))       # not yet: requeue_stranded's
    _set(sql, died, status="sending", sending_at=now - sender.STALE_AFTER - timedelta(seconds=5),
         enqueued_at=now - timedelta(minutes=10))
    _set(sql, running, status="sending", sending_at=now - timedelta(seconds=5), enqueued_at=now)
    _set(sql, sent, status="sent", enqueued_at=gone - timedelta(days=1), sent_at=gone)

    assert expiry.sweep(config, now=now) == {"expired": 1, "never_queued": 1, "interrupted": 1}
    row = _row(sql, expired)
    assert (row["status"], row["error_code"]) == ("not_sent", sender.EXPIRED) and row["not_sent_at"] == now
    assert row["error_message"] == sender.EXPLANATIONS[sender.EXPIRED]
    assert (_row(sql, died)["status"], _row(sql, died)["error_code"]) == ("unknown", sender.INTERRUPTED)
    row = _row(sql, never_queued)
    assert (row["status"], row["error_code"], row["error_message"]) == \
        ("not_sent", sender.NEVER_QUEUED, sender.EXPLANATIONS[sender.NEVER_QUEUED])
    assert [_row(sql, rid)["status"] for rid in (in_retention, recent, unqueued, running, sent)] == \
        ["queued", "queued", "queued", "sending", "sent"]
    assert expiry.sweep(config, now=now) == {"expired": 0, "never_queued": 0, "interrupted": 0}

    # A message that arrives after all (e.g. redriven from the DLQ by hand) sends nothing for the swept rows.
    client = make_chatapp()
    assert sender.send_batch(client, [(expired, 1), (died, 6)]) == {expired: sender.DUPLICATE, died: sender.DUPLICATE}
    assert emulator.sends() == []

    # The operator reads why, in the page's language, and the broadcast is no longer pending for these rows.
    broadcast, rows = broadcasts.detail(bid, 1, "not_sent")
    for language, expected in (("en", ["Expired: its queue message expired or was lost before it could be sent",
                                       "NeverQueued: its message could not be queued for hours"]),
                               ("ru", ["Expired: сообщение в очереди истекло или потерялось",
                                       "NeverQueued: сообщение не удавалось поставить в очередь несколько часов"])):
        page = pages.render("broadcast.html", language, base="", b=broadcast, recipients=rows, status="not_sent",
                            page=1, statuses=broadcasts.STATUSES, refresh_seconds=5, delay_range=(5, 50),
                            timedelta=timedelta)
        assert all(text in page for text in expected), language


def test_a_retention_shorter_than_twice_the_retry_span_is_refused(emulator, make_settings, sql):
    _bid, [rid] = store_broadcast("+79991234567")
    _set(sql, rid, enqueued_at=utcnow() - timedelta(days=2))
    span = expiry.retry_span(5)
    with pytest.raises(SettingError, match="BROADCAST_MESSAGE_RETENTION_SECONDS"):
        expiry.sweep(make_settings(broadcast_message_retention_seconds=2 * span - 1))
    assert _row(sql, rid)["status"] == "queued"
    assert expiry.sweep(make_settings(broadcast_message_retention_seconds=2 * span))["expired"] == 1


def test_the_retry_span_is_made_of_the_template_s_values():
    resources = load(TEMPLATE)["Resources"]
    queue = resources["BroadcastSendQueue"]["Properties"]
    sender_fn = resources["BroadcastSenderFunction"]["Properties"]
    maintenance = resources["BroadcastMaintenanceFunction"]["Properties"]["Environment"]["Variables"]
    assert queue["VisibilityTimeout"] == expiry.QUEUE_VISIBILITY and sender_fn["Timeout"] == expiry.SENDER_TIMEOUT
    receives = queue["RedrivePolicy"]["maxReceiveCount"]
    assert int(maintenance["BROADCAST_MAX_RECEIVES"]) == receives
    assert int(sender_fn["Environment"]["Variables"]["BROADCAST_MAX_RECEIVES"]) == receives
    assert int(maintenance["BROADCAST_MESSAGE_RETENTION_SECONDS"]) == queue["MessageRetentionPeriod"]
    assert queue["MessageRetentionPeriod"] >= 2 * expiry.retry_span(receives)
    dlq = resources["BroadcastSendDLQ"]["Properties"]
    # A DLQ message's age counts from its first send: the DLQ must keep it longer than the queue would have.
    assert dlq["MessageRetentionPeriod"] > queue["MessageRetentionPeriod"]
