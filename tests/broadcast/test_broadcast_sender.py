"""The sender: at most one send per recipient, API errors final, 429/5xx/network retried, tokens renewed."""
from datetime import timedelta

import pytest

from functions.broadcast.chalicelib import sender
from functions.broadcast.chalicelib.clock import utcnow

from broadcast_helpers import store_broadcast


@pytest.fixture
def recipients(emulator):
    """recipients(*numbers, text=...) -> recipient ids of a freshly stored broadcast."""
    def make(*numbers, text="Hello from the test"):
        return store_broadcast("\n".join(numbers), text=text)[1]
    return make


def _row(sql, recipient_id):
    return sql("SELECT * FROM broadcast_recipients WHERE id = %s", recipient_id)[0]


def test_send_records_sent_with_the_message_id(emulator, make_chatapp, recipients, sql):
    [rid] = recipients("+7 999 123-45-67", text="Привет, мир")
    assert sender.send(make_chatapp(), rid) == sender.SENT
    row = _row(sql, rid)
    [message] = emulator.messages.values()
    assert (message["phone"], message["text"]) == ("79991234567", "Привет, мир")
    assert row["status"] == "sent" and row["message_id"] == message["id"]
    assert row["attempts"] == 1 and row["sending_at"] <= row["sent_at"]


def test_the_same_message_twice_sends_once(emulator, make_chatapp, recipients, sql):
    [rid] = recipients("+79991234567")
    client = make_chatapp()
    assert sender.send(client, rid) == sender.SENT
    assert sender.send(client, rid, receive_count=2) == sender.DUPLICATE
    assert len(emulator.sends()) == 1
    assert _row(sql, rid)["attempts"] == 1


def test_api_error_is_final_not_sent_with_the_reason(emulator, make_chatapp, recipients, sql):
    [rid] = recipients("+79991234567")
    emulator.fail(phone="79991234567", code="ApiChatNotFoundError", message="WhatsApp is not installed", status=400)
    assert sender.send(make_chatapp(), rid) == sender.NOT_SENT
    row = _row(sql, rid)
    assert row["status"] == "not_sent" and row["not_sent_at"] is not None
    assert (row["error_code"], row["error_message"]) == ("ApiChatNotFoundError", "WhatsApp is not installed")
    assert sender.send(make_chatapp(), rid, receive_count=2) == sender.DUPLICATE
    assert len(emulator.sends()) == 1


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limits_and_server_errors_are_retried(emulator, make_chatapp, recipients, sql, status):
    [rid] = recipients("+79991234567")
    client = make_chatapp()
    emulator.fail(next=1, status=status, code="Busy", message="try later")
    assert sender.send(client, rid) == sender.RETRY
    row = _row(sql, rid)
    assert row["status"] == "queued" and row["error_message"] == "retrying: try later"
    assert sender.send(client, rid, receive_count=2) == sender.SENT
    row = _row(sql, rid)
    assert row["status"] == "sent" and row["attempts"] == 2 and row["error_code"] is None
    assert len(emulator.sends()) == 2


def test_network_errors_are_retried(emulator, make_chatapp, recipients, sql):
    [rid] = recipients("+79991234567")
    unreachable = make_chatapp(chatapp_base_url="http://127.0.0.1:9")
    assert sender.send(unreachable, rid) == sender.RETRY
    assert _row(sql, rid)["status"] == "queued"
    assert sender.send(make_chatapp(), rid, receive_count=2) == sender.SENT


def test_retryable_error_on_the_last_receive_becomes_not_sent(emulator, make_chatapp, recipients, sql):
    [rid] = recipients("+79991234567")
    client = make_chatapp()
    emulator.fail(next=1, status=503, code="ServiceUnavailable", message="down")
    assert sender.send(client, rid, receive_count=5, max_receives=5) == sender.NOT_SENT
    row = _row(sql, rid)
    assert row["status"] == "not_sent" and row["error_message"] == "down (gave up after 5 attempts)"


def test_a_retryable_error_is_final_after_max_calls_not_after_receives_spent_by_deaths(
        emulator, make_chatapp, recipients, sql):
    early, late = recipients("+79991234567", "+79991234568")
    # Receives spent by killed senders (no call made) do not count: 6 of 10 receives, first call -> retried.
    emulator.fail(next=1, status=503, code="ServiceUnavailable", message="down")
    assert sender.send(make_chatapp(), early, receive_count=6, max_receives=10) == sender.RETRY
    # The MAX_CALLS-th failing call is final, however many receives are left.
    sql("UPDATE broadcast_recipients SET attempts = %s WHERE id = %s", sender.MAX_CALLS - 1, late)
    emulator.fail(next=1, status=503, code="ServiceUnavailable", message="down")
    assert sender.send(make_chatapp(), late, receive_count=6, max_receives=10) == sender.NOT_SENT
    row = _row(sql, late)
    assert row["status"] == "not_sent" and row["error_message"] == f"down (gave up after {sender.MAX_CALLS} attempts)"


def test_rejected_token_is_renewed_and_the_send_repeated(emulator, make_chatapp, recipients, sql):
    first, second = recipients("+79991234567", "+79991234568")
    client = make_chatapp()
    assert sender.send(client, first) == sender.SENT
    emulator.revoke(access=True, refresh=False)
    assert sender.send(client, second) == sender.SENT
    assert len(emulator.calls("POST", "/v1/tokens")) == 1
    assert len(emulator.calls("POST", "/v1/tokens/refresh")) == 1
    assert len(emulator.sends()) == 3       # one send was refused with ApiInvalidTokenError


def test_many_sends_use_one_token(emulator, make_chatapp, recipients):
    ids = recipients(*[f"+7999123{n:04d}" for n in range(20)])
    client = make_chatapp()
    assert [sender.send(client, rid) for rid in ids] == [sender.SENT] * 20
    assert len(emulator.calls("POST", "/v1/tokens")) == 1
    assert len(emulator.calls("POST", "/v1/tokens/refresh")) == 0
    assert len({r["authorization"] for r in emulator.sends()}) == 1


def test_an_interrupted_attempt_is_not_resent(emulator, make_chatapp, recipients, sql):
    [rid] = recipients("+79991234567")
    sql("UPDATE broadcast_recipients SET status = 'sending', attempts = 1, sending_at = %s WHERE id = %s",
        utcnow() - timedelta(minutes=5), rid)
    assert sender.send(make_chatapp(), rid, receive_count=2) == sender.UNKNOWN
    row = _row(sql, rid)
    assert row["status"] == "unknown" and row["error_code"] == "Interrupted"
    assert "not resent" in row["error_message"]
    assert emulator.sends() == []


def test_a_concurrent_duplicate_waits_for_the_running_attempt(emulator, make_chatapp, recipients, sql):
    [rid] = recipients("+79991234567")
    sql("UPDATE broadcast_recipients SET status = 'sending', sending_at = %s WHERE id = %s", utcnow(), rid)
    assert sender.send(make_chatapp(), rid, receive_count=1) == sender.WAIT     # comes back once it has ended
    assert _row(sql, rid)["status"] == "sending"
    # ... and no later than its claim turns stale (20 s of STALE_AFTER's 60 s are gone): then it is decided.
    sql("UPDATE broadcast_recipients SET sending_at = %s WHERE id = %s", utcnow() - timedelta(seconds=20), rid)
    outcome = sender.send(make_chatapp(), rid, receive_count=2)
    assert outcome == sender.WAIT and 39 <= outcome.seconds <= 42
    assert emulator.sends() == []


def test_a_deleted_recipient_is_dropped(emulator, make_chatapp):
    assert sender.send(make_chatapp(), 987654321) == sender.MISSING
    assert emulator.sends() == []


def test_an_outcome_is_recorded_through_a_short_database_outage(monkeypatch):
    """The call to ChatApp already happened: a lost connection while recording it is tried again."""
    import pymysql
    from contextlib import contextmanager

    from common import db
    executed, attempts, naps = [], [], []

    class Cursor:
        def execute(self, statement, params):
            executed.append((statement, params))

    @contextmanager
    def flaky_transaction():
        attempts.append(1)
        if len(attempts) <= 2:
            raise pymysql.err.OperationalError(2003, "Can't connect to MySQL server")
        yield Cursor()
    monkeypatch.setattr(db, "mysql_transaction", flaky_transaction)
    sender._record([("UPDATE x", (1,)), ("UPDATE y", (2,))], patience=30, sleep=naps.append)
    assert executed == [("UPDATE x", (1,)), ("UPDATE y", (2,))] and len(attempts) == 3 and naps == [0.5, 1.0]
    attempts.clear()
    with pytest.raises(pymysql.err.OperationalError):   # past its patience it gives up (SQS redelivers)
        sender._record([("UPDATE x", (1,))], patience=0.1, sleep=naps.append)


# ---- a batch of deliveries (one SQS batch: one claim transaction, one outcome transaction) --------------

def _sends_per_phone(emulator):
    counts = {}
    for request in emulator.sends():
        phone = request["path"].split("/")[-3]
        counts[phone] = counts.get(phone, 0) + 1
    return counts


def test_a_redelivered_batch_sends_nothing_twice(emulator, make_chatapp, recipients, sql):
    ids = recipients(*[f"+7999123000{n}" for n in range(5)])
    client = make_chatapp()
    assert sender.send_batch(client, [(rid, 1) for rid in ids]) == {rid: sender.SENT for rid in ids}
    assert sender.send_batch(client, [(rid, 2) for rid in ids]) == {rid: sender.DUPLICATE for rid in ids}
    assert _sends_per_phone(emulator) == {f"7999123000{n}": 1 for n in range(5)}
    rows = sql("SELECT status, attempts, message_id FROM broadcast_recipients WHERE id IN %s", tuple(ids))
    assert {(r["status"], r["attempts"]) for r in rows} == {("sent", 1)}
    assert len({r["message_id"] for r in rows}) == 5


def test_a_partial_failure_retries_only_the_failed_record(emulator, make_chatapp, recipients, sql):
    first, second, third = recipients("+79991230001", "+79991230002", "+79991230003")
    client = make_chatapp()
    emulator.fail(phone="79991230002", status=503, code="Busy", message="try later", times=1)
    outcomes = sender.send_batch(client, [(first, 1), (second, 1), (third, 1)])
    assert outcomes == {first: sender.SENT, second: sender.RETRY, third: sender.SENT}
    assert [_row(sql, rid)["status"] for rid in (first, second, third)] == ["sent", "queued", "sent"]
    # SQS brings back the failed record; even if the whole batch came back, the others are not sent again.
    outcomes = sender.send_batch(client, [(first, 2), (second, 2), (third, 2)])
    assert outcomes == {first: sender.DUPLICATE, second: sender.SENT, third: sender.DUPLICATE}
    assert _sends_per_phone(emulator) == {"79991230001": 1, "79991230002": 2, "79991230003": 1}
    assert _row(sql, second)["attempts"] == 2


def test_a_recipient_twice_in_one_batch_is_sent_once(emulator, make_chatapp, recipients):
    [rid] = recipients("+79991234567")
    assert sender.send_batch(make_chatapp(), [(rid, 1), (rid, 1)]) == {rid: sender.SENT}
    assert len(emulator.sends()) == 1


def test_a_batch_out_of_time_releases_the_rest_unsent(emulator, make_chatapp, recipients, sql):
    ids = recipients("+79991230001", "+79991230002", "+79991230003")
    ticks = iter([0.0, 0.0, 1.0, 9.0])      # the start, then before each send: the third starts too late
    outcomes = sender.send_batch(make_chatapp(), [(rid, 1) for rid in ids], budget=5.0, clock=lambda: next(ticks))
    assert outcomes == {ids[0]: sender.SENT, ids[1]: sender.SENT, ids[2]: sender.RETRY}
    row = _row(sql, ids[2])
    assert row["status"] == "queued" and row["error_code"] == "NotTried" and len(emulator.sends()) == 2
    assert sender.send_batch(make_chatapp(), [(ids[2], 2)]) == {ids[2]: sender.SENT}


def test_an_unexpected_error_mid_batch_keeps_what_was_sent_frees_the_rest(emulator, make_chatapp, recipients, sql):
    ids = recipients("+79991230001", "+79991230002", "+79991230003")
    client = make_chatapp()
    real, calls = client.send_text, []

    def flaky(phone, text, held=None):
        calls.append(phone)
        if len(calls) == 2:
            raise RuntimeError("bug after the request may have left")
        return real(phone, text, held)
    client.send_text = flaky
    with pytest.raises(RuntimeError):
        sender.send_batch(client, [(rid, 1) for rid in ids])
    assert [_row(sql, rid)["status"] for rid in ids] == ["sent", "sending", "queued"]
    assert len(emulator.sends()) == 1


# ---- the last allowed receive is final: no row stays queued or sending behind a message gone to the DLQ --------

def test_out_of_time_on_the_last_receive_is_not_sent_and_never_sent_later(emulator, make_chatapp, recipients, sql):
    ids = recipients("+79991230001", "+79991230002", "+79991230003")
    ticks = iter([0.0, 0.0, 9.0, 9.0])      # the start, then before each send: only the first starts in time
    deliveries = [(ids[0], 5), (ids[1], 2), (ids[2], 5)]
    outcomes = sender.send_batch(make_chatapp(), deliveries, max_receives=5, budget=5.0, clock=lambda: next(ticks))
    assert outcomes == {ids[0]: sender.SENT, ids[1]: sender.RETRY, ids[2]: sender.NOT_SENT}
    assert _row(sql, ids[1])["status"] == "queued"            # it has receives left: its message comes back
    row = _row(sql, ids[2])
    assert (row["status"], row["error_code"]) == ("not_sent", sender.GAVE_UP) and row["not_sent_at"] is not None
    assert row["error_message"].endswith("nothing was sent - you can send it again (gave up after 5 attempts)")
    assert _sends_per_phone(emulator) == {"79991230001": 1}
    # A late copy of its message (SQS delivers at least once) finds the row final: nothing is sent.
    assert sender.send_batch(make_chatapp(), [(ids[2], 6)]) == {ids[2]: sender.DUPLICATE}
    assert _sends_per_phone(emulator) == {"79991230001": 1}


def test_an_unexpected_error_on_the_last_receive_leaves_nothing_queued(emulator, make_chatapp, recipients, sql):
    ids = recipients("+79991230001", "+79991230002", "+79991230003")
    client = make_chatapp()

    def broken(phone, text, held=None):
        raise RuntimeError("bug before the request left")
    client.send_text = broken
    with pytest.raises(RuntimeError):
        sender.send_batch(client, [(rid, 5) for rid in ids], max_receives=5)
    # The one whose call raised may have been sent: left 'sending' (its redelivery or the sweep: 'unknown').
    assert [_row(sql, rid)["status"] for rid in ids] == ["sending", "not_sent", "not_sent"]
    assert emulator.sends() == []


def test_a_concurrent_duplicate_on_the_last_receive_is_left_to_it(emulator, make_chatapp, recipients, sql):
    [rid] = recipients("+79991234567")
    sql("UPDATE broadcast_recipients SET status = 'sending', sending_at = %s WHERE id = %s", utcnow(), rid)
    assert sender.send(make_chatapp(), rid, receive_count=5, max_receives=5) == sender.LEFT
    assert _row(sql, rid)["status"] == "sending" and emulator.sends() == []
