"""Cancel a broadcast (what is not sent yet becomes 'cancelled' at once, and the sender re-checks before each ChatApp
call) and send one again to the numbers it did not reach (a new broadcast linked to the first, one per click)."""
import requests

from functions.broadcast.chalicelib import broadcasts, sender

from broadcast_helpers import basic, csrf, store_broadcast, wait_for
from broadcast_site import broadcast_id, statuses, text_of

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
NUMBERS = ["79991234567", "79991234568", "79991234569"]


def _post(http, site, path, **fields):
    return http.post(site + path, data={"csrf": csrf(site), **fields}, allow_redirects=False, timeout=60)


def _statuses(sql, bid):
    return [r["status"] for r in sql("SELECT status FROM broadcast_recipients WHERE broadcast_id = %s ORDER BY id",
                                     bid)]


def test_cancel_makes_every_queued_recipient_cancelled_and_nothing_is_sent(emulator, make_chatapp, sql):
    bid, ids = store_broadcast("\n".join(NUMBERS))
    assert broadcasts.cancel(bid) == 3
    assert _statuses(sql, bid) == ["cancelled"] * 3
    # Their queue messages arrive later and find nothing to claim.
    assert sender.send_batch(make_chatapp(), [(rid, 1) for rid in ids]) == {rid: sender.DUPLICATE for rid in ids}
    assert emulator.sends() == []
    assert broadcasts.cancel(bid) == 0                          # a second click changes nothing


def test_the_sender_rechecks_before_each_call_so_nothing_leaves_after_the_click(
        emulator, make_chatapp, sql, monkeypatch):
    """The batch claimed all three before the click; the click comes while the first is being sent."""
    bid, ids = store_broadcast("\n".join(NUMBERS))
    client = make_chatapp()
    real = client.send_text

    def send_then_click(*args, **kwargs):
        answer = real(*args, **kwargs)
        broadcasts.cancel(bid)
        return answer
    monkeypatch.setattr(client, "send_text", send_then_click)
    outcomes = sender.send_batch(client, [(rid, 1) for rid in ids])
    assert outcomes == {ids[0]: sender.SENT, ids[1]: sender.CANCELLED_STATUS, ids[2]: sender.CANCELLED_STATUS}
    assert len(emulator.sends()) == 1
    rows = sql("SELECT status, error_code FROM broadcast_recipients WHERE broadcast_id = %s ORDER BY id", bid)
    assert [(r["status"], r["error_code"]) for r in rows] == [
        ("sent", None), ("cancelled", "Cancelled"), ("cancelled", "Cancelled")]


def test_cancel_through_the_site(site, emulator, http, sql):
    bid = broadcast_id(_post(http, site, "/broadcasts", text="to cancel", numbers="\n".join(NUMBERS)))
    page = http.get(f"{site}/broadcasts/{bid}", timeout=30).text
    assert f'/broadcasts/{bid}/cancel"' in page
    assert requests.post(f"{site}/broadcasts/{bid}/cancel", headers=dict(FORM, Authorization=basic()), data="",
                         allow_redirects=False, timeout=30).status_code == 403       # not from our page
    done = _post(http, site, f"/broadcasts/{bid}/cancel")
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/broadcasts/{bid}")
    assert _statuses(sql, bid) == ["cancelled"] * 3
    page = http.get(f"{site}/broadcasts/{bid}", timeout=30).text
    assert set(statuses(page).values()) == {"cancelled"} and "nothing more is sent" in text_of(page)
    assert f'/broadcasts/{bid}/cancel"' not in page and '<meta http-equiv="refresh"' not in page
    russian = requests.get(f"{site}/broadcasts/{bid}", headers={"Authorization": basic()}, timeout=30).text
    assert "отменено" in text_of(russian) and "больше ничего не отправляется" in text_of(russian)
    assert _post(http, site, "/broadcasts/2000000000/cancel").status_code == 404


def test_cancel_on_the_live_site_stops_what_has_not_left(live_site, emulator, http, sql):
    numbers = [f"7999{n:07d}" for n in range(30)]
    bid = broadcast_id(_post(http, live_site, "/broadcasts", text="stop me", numbers="\n".join(numbers),
                             pacing="serial"))
    wait_for(lambda: emulator.sends(), timeout=60, interval=0.2, what="the first message sent")
    assert _post(http, live_site, f"/broadcasts/{bid}/cancel").status_code == 303
    sent_at_click = len(emulator.sends())
    final = wait_for(lambda: (lambda s: s if not {"queued", "sending"} & set(s) else None)(_statuses(sql, bid)),
                     timeout=60, interval=0.3, what="every recipient final")
    assert final.count("cancelled") >= len(numbers) - sent_at_click - 1 > 0
    assert len(emulator.sends()) == final.count("sent") + final.count("delivered") + final.count("read")
    assert len(emulator.sends()) <= sent_at_click + 1          # at most the one whose call was under way


def test_send_again_to_the_numbers_not_sent_or_failed(site, emulator, http, sql):
    bid = broadcast_id(_post(http, site, "/broadcasts", text="second chance", numbers="\n".join(NUMBERS),
                             pacing="serial"))
    assert _post(http, site, f"/broadcasts/{bid}/resend").status_code == 409      # nothing ended badly yet
    for phone, status in zip(NUMBERS, ("read", "not_sent", "failed")):
        sql("UPDATE broadcast_recipients SET status = %s WHERE broadcast_id = %s AND phone = %s", status, bid, phone)
    page = http.get(f"{site}/broadcasts/{bid}", timeout=30).text
    assert "Send again to the 2 numbers not sent or failed" in text_of(page)
    again = broadcast_id(_post(http, site, f"/broadcasts/{bid}/resend"))
    assert again != bid
    [row] = sql("SELECT text, parent_id, pacing, recipient_count FROM broadcasts WHERE id = %s", again)
    assert row == {"text": "second chance", "parent_id": bid, "pacing": "serial", "recipient_count": 2}
    assert sorted(statuses(http.get(f"{site}/broadcasts/{again}", timeout=30).text)) == NUMBERS[1:]
    # One click, one broadcast: clicking again (or twice at once) leads to the same one.
    assert broadcast_id(_post(http, site, f"/broadcasts/{bid}/resend")) == again
    assert len(sql("SELECT id FROM broadcasts WHERE parent_id = %s", bid)) == 1
    first = http.get(f"{site}/broadcasts/{bid}", timeout=30).text
    assert f'/broadcasts/{again}">broadcast {again}</a>' in first and f"/broadcasts/{bid}/resend" not in first
    assert f'/broadcasts/{bid}">broadcast {bid}</a>' in http.get(f"{site}/broadcasts/{again}", timeout=30).text
    assert _post(http, site, "/broadcasts/2000000000/resend").status_code == 404
