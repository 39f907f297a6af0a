"""Whole mailings through the local runtime: the API, the Scheduler one-off start, the dispatch queue,
the sweep, the sender and the provider emulator over HTTP; retries, hangs, moves, deletes, stats, report."""
import json
import threading
from datetime import datetime, timedelta, timezone

import boto3

import ses_mail
from notifications_helpers import wait_until

UTC = timezone.utc
PHONES = ["79161110001", "79161110002", "79031110003", "79261110004"]


def iso(moment):
    return moment.isoformat()


def add_clients(api, tags=("vip", "vip", "new", "vip")):
    return [api.post("/clients", {"phone": phone, "tag": tag, "timezone": "Europe/Moscow"}).json()["id"]
            for phone, tag in zip(PHONES, tags)]


def counts(api, mailing_id):
    return api.get(f"/mailings/{mailing_id}/stats").json()["counts"]


def test_a_running_mailing_starts_at_once_and_every_matching_client_gets_one_message(api, emulator):
    clients = add_clients(api)
    now = datetime.now(UTC)
    mailing = api.post("/mailings", {"start": iso(now - timedelta(minutes=5)), "end": iso(now + timedelta(hours=1)),
                                     "text": "Привет", "filter": {"tags": ["vip"]}}).json()
    wait_until(lambda: counts(api, mailing["id"])["sent"] == 3, what="3 sent")
    assert sorted(s["phone"] for s in emulator.sends()) == sorted(int(p) for p in PHONES if p != "79031110003")
    assert {s["text"] for s in emulator.sends()} == {"Привет"}
    stats = api.get(f"/mailings/{mailing['id']}/stats?limit=2").json()
    assert stats["counts"] == {"processing": 0, "sent": 3, "error": 0, "expired": 0, "total": 3}
    assert len(stats["messages"]) == 2 and stats["next_after"] == stats["messages"][-1]["id"]
    rest = api.get(f"/mailings/{mailing['id']}/stats?limit=2&after={stats['next_after']}").json()
    assert len(rest["messages"]) == 1 and rest["next_after"] is None
    assert {m["client_id"] for m in stats["messages"] + rest["messages"]} == {clients[0], clients[1], clients[3]}
    assert api.get(f"/mailings/{mailing['id']}").json()["state"] == "started"


def test_a_scheduled_mailing_starts_through_its_one_off_schedule(api, cloud, emulator):
    add_clients(api)
    fired_before = cloud.scheduler_schedules.stats["fired"]
    start = datetime.now(UTC) + timedelta(seconds=3)
    mailing = api.post("/mailings", {"start": iso(start), "end": iso(start + timedelta(hours=1)), "text": "Hi",
                                     "filter": {"operator_codes": ["903"]}}).json()
    assert mailing["state"] == "scheduled"
    wait_until(lambda: counts(api, mailing["id"])["sent"] == 1, timeout=40, what="sent at its start")
    assert [s["phone"] for s in emulator.sends()] == [79031110003]
    # The minute sweep (every 3 s here) may start it first; either way its schedule fires once and is deleted.
    scheduler = boto3.client("scheduler", region_name="us-east-1")
    name = f"{cloud.stack_name}-mailing-{mailing['id']}"
    wait_until(lambda: name not in [s["Name"] for s in scheduler.list_schedules()["Schedules"]], timeout=30,
               what="the schedule deleted after firing")
    assert cloud.scheduler_schedules.stats["fired"] == fired_before + 1
    assert len(emulator.requests) == 1


def test_a_mailing_moved_or_deleted_before_its_start_sends_nothing_then(api, cloud, emulator, sql):
    add_clients(api)
    start = datetime.now(UTC) + timedelta(seconds=2)
    moved = api.post("/mailings", {"start": iso(start), "end": iso(start + timedelta(hours=1)), "text": "A"}).json()
    deleted = api.post("/mailings", {"start": iso(start), "end": iso(start + timedelta(hours=1)), "text": "B"}).json()
    assert api.patch(f"/mailings/{moved['id']}", {"start": iso(start + timedelta(days=1)),
                                                  "end": iso(start + timedelta(days=2))}).status_code == 200
    assert api.delete(f"/mailings/{deleted['id']}").status_code == 204
    # Past the old start and several sweeps (every 3 s): nothing went out, nothing was created.
    scheduler = cloud.scheduler_schedules
    fired_before = scheduler.stats["fired"]
    wait_until(lambda: datetime.now(UTC) > start + timedelta(seconds=8), timeout=15)
    assert emulator.requests == []
    assert sql("SELECT count(*) FROM notifications.messages")[0][0] == 0
    assert api.get(f"/mailings/{moved['id']}").json()["state"] == "scheduled"
    assert scheduler.stats["fired"] == fired_before


def test_failures_are_retried_with_backoff_until_sent(api, emulator, sql):
    add_clients(api, tags=("a", "b", "c", "d"))
    emulator.configure(fail_next=2)
    now = datetime.now(UTC)
    mailing = api.post("/mailings", {"start": iso(now - timedelta(minutes=1)), "end": iso(now + timedelta(hours=1)),
                                     "text": "Retry", "filter": {"tags": ["a"]}}).json()
    wait_until(lambda: counts(api, mailing["id"])["sent"] == 1, timeout=60, what="sent after retries")
    assert [r["status"] for r in emulator.requests] == [500, 500, 200]
    assert sql("SELECT attempts FROM notifications.messages WHERE mailing_id = %s", mailing["id"]) == [(3,)]


def test_a_hanging_provider_does_not_hold_the_other_messages(api, emulator, sql, monkeypatch):
    add_clients(api)
    # The hung call hangs until the test lets it go (no hidden deadline that a slow run could outlast).
    released = threading.Event()
    monkeypatch.setattr(emulator, "_sleep", lambda seconds: released.wait(120))
    emulator.configure(hang_next=1)
    now = datetime.now(UTC)
    try:
        mailing = api.post("/mailings", {"start": iso(now - timedelta(minutes=1)),
                                         "end": iso(now + timedelta(hours=1)), "text": "Hang"}).json()
        wait_until(lambda: counts(api, mailing["id"])["sent"] == 4, timeout=90, what="all sent")
        # The hung call is still hanging (logged on arrival, unanswered) while every message went out.
        statuses = [r["status"] for r in emulator.requests]
        assert statuses.count(200) == 4 and statuses.count(None) == 1 and len(statuses) == 5
    finally:
        released.set()
    assert sum(emulator.deliveries(m) for m, in sql("SELECT id FROM notifications.messages")) == 4
    assert sql("SELECT max(attempts) FROM notifications.messages")[0][0] == 2


def test_overall_stats_count_every_status(api, sql, emulator):
    clients = add_clients(api)
    now = datetime.now(UTC)
    later = api.post("/mailings", {"start": iso(now + timedelta(days=1)), "end": iso(now + timedelta(days=2)),
                                   "text": "Later"}).json()
    past = api.post("/mailings", {"start": iso(now - timedelta(hours=2)), "end": iso(now - timedelta(hours=1)),
                                  "text": "Too late"}).json()
    emulator.configure(fail_next=1, fail_status=400)
    running = api.post("/mailings", {"start": iso(now - timedelta(minutes=1)), "end": iso(now + timedelta(hours=1)),
                                     "text": "Now"}).json()
    # One reading for both conditions: two readings could see "nothing in processing" before the messages were
    # made and "4 in all" just after, while all 4 were still in processing.
    wait_until(lambda: (lambda c: c["processing"] == 0 and c["total"] == 4)(counts(api, running["id"])),
               timeout=60, what="running mailing done")
    wait_until(lambda: counts(api, past["id"])["total"] == 4, timeout=30, what="the sweep expired the past one")
    stats = {m["id"]: m["counts"] for m in api.get("/stats").json()["mailings"]}
    assert stats[later["id"]] == {"processing": 0, "sent": 0, "error": 0, "expired": 0, "total": 0}
    assert stats[past["id"]] == {"processing": 0, "sent": 0, "error": 0, "expired": 4, "total": 4}
    assert stats[running["id"]] == {"processing": 0, "sent": 3, "error": 1, "expired": 0, "total": 4}
    # The trigger-kept counts agree with the messages themselves.
    truth = dict(((m, s), n) for m, s, n in sql(
        "SELECT mailing_id, status, count(*) FROM notifications.messages GROUP BY 1, 2"))
    kept = dict(((m, s), n) for m, s, n in sql(
        "SELECT mailing_id, status, n FROM notifications.message_counts WHERE n <> 0"))
    assert truth == kept
    assert len(clients) == 4


def test_daily_statistics_email(api, cloud, emulator, aws_endpoint):
    add_clients(api)
    now = datetime.now(UTC)
    mailing = api.post("/mailings", {"start": iso(now - timedelta(minutes=1)), "end": iso(now + timedelta(hours=1)),
                                     "text": "Daily"}).json()
    wait_until(lambda: counts(api, mailing["id"])["sent"] == 4, timeout=60)
    assert cloud.invoke("NotificationsDailyReportFunction", {"detail-type": "Scheduled Event"}) == {"sent": True}
    sent = ses_mail.sent_messages()     # what the suite's moto (aws_endpoint, in this process) accepted
    mine = [m for m in sent if f"Mailing {mailing['id']} " in json.dumps(m, ensure_ascii=False)]
    assert len(mine) == 1
    text = json.dumps(mine[0], ensure_ascii=False)
    assert "sent 4" in text and "operator@example.com" in text and "notifications@example.com" in text
