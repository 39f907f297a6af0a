"""messageStatus callbacks: statuses move forward only, errors become failed, unknown ids are ignored."""
import time

import pytest

from common.web import AppError
from functions.broadcast.chalicelib import webhooks

from broadcast_helpers import SECRET, store_broadcast


@pytest.fixture
def sent(clean_db, sql):
    """sent(message_id) -> id of a recipient in status 'sent' with that ChatApp message id."""
    def make(message_id, number="+79991234567"):
        _bid, [rid] = store_broadcast(number)
        sql("UPDATE broadcast_recipients SET status = 'sent', message_id = %s, sent_at = UTC_TIMESTAMP(3) "
            "WHERE id = %s", message_id, rid)
        return rid
    return make


def _event(message_id, kind, when=None, error=None):
    return {"id": message_id, "type": kind, "time": when or int(time.time()),
            "chat": {"id": "79991234567@c.us", "type": "private", "phone": "79991234567"}, "fromApp": True,
            "error": error}


def _row(sql, rid):
    return sql("SELECT * FROM broadcast_recipients WHERE id = %s", rid)[0]


def test_delivered_then_viewed_means_read_with_both_times(sent, sql):
    rid = sent("MSG1")
    t0 = int(time.time())
    assert webhooks.apply([_event("MSG1", "delivered", t0)]) == {"updated": 1, "ignored": 0}
    assert _row(sql, rid)["status"] == "delivered"
    webhooks.apply([_event("MSG1", "viewed", t0 + 2)])
    row = _row(sql, rid)
    assert row["status"] == "read"
    assert (row["read_at"] - row["delivered_at"]).total_seconds() == 2


def test_a_late_delivered_never_downgrades_read(sent, sql):
    rid = sent("MSG1")
    webhooks.apply([_event("MSG1", "viewed"), _event("MSG1", "sent")])
    webhooks.apply([_event("MSG1", "delivered")])
    row = _row(sql, rid)
    assert row["status"] == "read"
    assert row["delivered_at"] is not None and row["read_at"] is not None


def test_an_error_marks_failed_with_the_reason_but_not_after_read(sent, sql):
    failing, read = sent("MSG1"), sent("MSG2", "+79991234568")
    webhooks.apply([_event("MSG1", "sent", error={"code": "ChatNotFound", "message": "no WhatsApp"}),
                    _event("MSG2", "viewed")])
    webhooks.apply([_event("MSG2", "sent", error="late error")])
    row = _row(sql, failing)
    assert (row["status"], row["error_code"], row["error_message"]) == ("failed", "ChatNotFound", "no WhatsApp")
    assert row["failed_at"] is not None
    assert _row(sql, read)["status"] == "read" and _row(sql, read)["error_code"] is None


def test_unknown_ids_and_types_are_ignored(sent, sql):
    rid = sent("MSG1")
    result = webhooks.apply([_event("NOPE", "delivered"), _event("MSG1", "typing"), "junk", {"type": "sent"},
                             _event("MSG1", "delivered")])
    assert result == {"updated": 1, "ignored": 4}
    assert _row(sql, rid)["status"] == "delivered"


def test_a_batch_updates_many_messages(sent, sql):
    ids = {f"M{i}": sent(f"M{i}", f"+7999123456{i}") for i in range(5)}
    result = webhooks.apply([_event(mid, "delivered") for mid in ids])
    assert result["updated"] == 5
    assert {_row(sql, rid)["status"] for rid in ids.values()} == {"delivered"}


def test_parse_rejects_what_is_not_a_status_payload():
    with pytest.raises(AppError) as not_json:
        webhooks.parse(b"{not json")
    with pytest.raises(AppError) as no_data:
        webhooks.parse(b'{"meta": {}}')
    assert not_json.value.status == no_data.value.status == 400
    assert webhooks.parse(b'{"data": [], "meta": {"type": "messageStatus"}}') == []


def test_secret_check(make_settings):
    settings = make_settings()
    assert webhooks.secret_ok(settings, SECRET)
    assert not webhooks.secret_ok(settings, SECRET + "x")
    assert not webhooks.secret_ok(settings, None)
    assert not webhooks.secret_ok(make_settings(broadcast_webhook_secret=""), "")
