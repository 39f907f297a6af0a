"""Pacing as an option: "spread" (each message its own 5-50 s from the post) or "one at a time" (each a random 5-50 s
after the previous one). One at a time the delays add up past SQS's 900 s limit: a chain of pacing ticks queues a
horizon at a time, guarded by a nonce so a tick delivered twice never forks the chain or sends twice; a lost chain
is restarted by the maintenance run, the remaining gaps kept. The expected finishing time is shown before sending."""
import json
import random
from datetime import timedelta

import pytest
import requests

from functions.broadcast.chalicelib import broadcasts, fanout, pacing, phones
from functions.broadcast.chalicelib.clock import utcnow

from broadcast_helpers import basic, csrf, wait_for
from broadcast_site import broadcast_id, text_of
from common import queue as sqs_queue
from test_broadcast_queueing import SpySqs


@pytest.fixture
def spy(monkeypatch, aws_endpoint):
    """Every SendMessageBatch entry recorded (a queued message's DelaySeconds cannot be read back from the queue)."""
    recorder = SpySqs(sqs_queue.client())
    monkeypatch.setattr(sqs_queue, "client", lambda: recorder)
    return recorder


def test_one_at_a_time_delays_add_a_random_gap_in_the_range_each():
    delays = pacing.serial_delays(1000, (5, 50), random.Random(7))
    gaps = [b - a for a, b in zip([0] + delays, delays)]
    assert min(gaps) == 5 and max(gaps) == 50
    assert pacing.estimate(pacing.SERIAL, 1000, (5, 50)) == (5000, 27500, 50000)
    assert pacing.estimate(pacing.SPREAD, 1000, (5, 50)) == (5, 50, 50)
    assert max(pacing.delays(pacing.SPREAD, 1000, (5, 50), random.Random(7))) == 50


def _serial(count, now, seed=3):
    numbers = [phones.Number(n + 1, f"+7999{n:07d}", f"7999{n:07d}") for n in range(count)]
    delays = pacing.serial_delays(count, (5, 50), random.Random(seed))
    nonce = fanout.new_nonce()
    bid, _span = broadcasts.create("one at a time", numbers, 0, delays, now=now, mode=pacing.SERIAL, nonce=nonce)
    return bid, nonce


def _sent(spy, start=0):
    """[(body, DelaySeconds)] of the entries sent since call number `start`."""
    return [(json.loads(e["MessageBody"]), e["DelaySeconds"]) for call in spy.calls[start:] for e in call]


def _nonce(sql, bid):
    return sql("SELECT pace_nonce FROM broadcasts WHERE id = %s", bid)[0]["pace_nonce"]


def test_ticks_queue_a_horizon_at_a_time_each_message_at_its_time_once(clean_db, make_settings, queue, sql, spy):
    created = utcnow().replace(microsecond=0)
    bid, nonce = _serial(100, created)
    config = make_settings(broadcast_queue_url=queue)
    delays = {r["id"]: r["delay_seconds"] for r in sql(
        "SELECT id, delay_seconds FROM broadcast_recipients WHERE broadcast_id = %s", bid)}
    assert max(delays.values()) > 900                     # beyond what one DelaySeconds can wait
    now, sends, ticks = created, {}, 0
    while True:
        start = len(spy.calls)
        outcome = fanout.tick(config, bid, nonce, now=now)
        assert fanout.tick(config, bid, nonce, now=now) == "stale"     # the same tick delivered again: dropped
        entries = _sent(spy, start)
        for body, delay in entries:
            if "recipient" in body:
                assert body["recipient"] not in sends, "a recipient queued twice"
                assert 0 <= delay <= 900
                sends[body["recipient"]] = now + timedelta(seconds=delay)
        ticks += 1
        if outcome == "done":
            assert [b for b, _d in entries if "pace" in b] == [] and _nonce(sql, bid) is None
            break
        [(tick, wait)] = [(b, d) for b, d in entries if "pace" in b]
        assert tick["nonce"] == _nonce(sql, bid) != nonce and 1 <= wait <= 900
        nonce, now = tick["nonce"], now + timedelta(seconds=wait)
    assert set(sends) == set(delays) and ticks > 3
    # Every message leaves exactly when it is due: its gap after the previous one kept.
    assert all(sends[rid] == created + timedelta(seconds=delays[rid]) for rid in delays)


def test_a_cancelled_broadcast_stops_its_chain(clean_db, make_settings, queue, sql, spy):
    bid, nonce = _serial(20, utcnow())
    broadcasts.cancel(bid)
    assert fanout.tick(make_settings(broadcast_queue_url=queue), bid, nonce) == "stale"
    assert spy.calls == []


def test_a_lost_chain_is_restarted_by_the_maintenance_run_keeping_the_gaps(
        clean_db, make_settings, queue, sql, spy):
    created = utcnow().replace(microsecond=0) - timedelta(hours=2)
    bid, lost = _serial(60, created)
    config = make_settings(broadcast_queue_url=queue)
    now = created + timedelta(hours=2)
    assert fanout.requeue_stranded(config, now=now) > 0
    [(tick, _wait)] = [(b, d) for b, d in _sent(spy) if "pace" in b]
    assert tick["pace"] == bid and tick["nonce"] == _nonce(sql, bid) != lost
    assert fanout.tick(config, bid, lost, now=now) == "stale"           # the old chain's tick, should it come
    start = len(spy.calls)
    fanout.tick(config, bid, tick["nonce"], now=now)
    delays = sorted(d for b, d in _sent(spy, start) if "recipient" in b)
    # Not a burst of everything overdue: the first leaves now, the rest keep their 5-50 s gaps.
    assert delays[0] <= fanout.LATE and all(5 <= b - a <= 50 for a, b in zip(delays, delays[1:]))


def test_one_at_a_time_through_the_cloud(live_site, emulator, http, sql):
    numbers = ["79991234567", "79991234568", "79991234569", "79991234570"]
    bid = broadcast_id(http.post(live_site + "/broadcasts", allow_redirects=False, timeout=60, data={
        "text": "one by one", "numbers": "\n".join(numbers), "pacing": "serial", "csrf": csrf(live_site)}))
    rows = wait_for(lambda: (lambda rows: rows if all(r["status"] == "read" for r in rows) else None)(sql(
        "SELECT * FROM broadcast_recipients WHERE broadcast_id = %s ORDER BY id", bid)), timeout=90, interval=0.5,
        what="all read")
    delays = [r["delay_seconds"] for r in rows]
    assert all(1 <= b - a <= 2 for a, b in zip([0] + delays, delays))       # this cloud's range is 1-2 s
    for row in rows:
        assert (row["sending_at"] - row["queued_at"]).total_seconds() >= row["delay_seconds"]    # never early
    assert len(emulator.sends()) == 4
    page = http.get(f"{live_site}/broadcasts/{bid}", timeout=30).text
    assert "One at a time, 1–2 s apart." in text_of(page)


@pytest.mark.parametrize("mode, shown", [("spread", "Spread: each message leaves 1–2 s after sending"),
                                         ("serial", "One at a time: between 0:00:03 and 0:00:06")])
def test_the_expected_finishing_time_is_shown_before_sending(site, emulator, http, sql, mode, shown):
    before = sql("SELECT COUNT(*) AS n FROM broadcasts")[0]["n"]
    data = {"text": "hi", "numbers": "+79991234567\n+79991234568\n+79991234569", "pacing": mode,
            "action": "preview", "csrf": csrf(site)}
    page = http.post(site + "/broadcasts", data=data, allow_redirects=False, timeout=30)
    assert page.status_code == 200
    text = text_of(page.text)
    assert "3 recipients: the last message is expected to leave around" in text and shown in text
    assert "Nothing has been sent yet" in text
    assert f'value="{mode}" checked' in page.text                  # the form comes back as it was filled in
    assert sql("SELECT COUNT(*) AS n FROM broadcasts")[0]["n"] == before
    russian = requests.post(site + "/broadcasts", data=data, headers={"Authorization": basic()}, timeout=30)
    assert "3 получателя: последнее сообщение уйдёт примерно в" in text_of(russian.text)
    bad = http.post(site + "/broadcasts", data=dict(data, pacing="burst"), timeout=30)
    assert bad.status_code == 400 and 'data-field="pacing"' in bad.text
