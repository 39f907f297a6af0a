"""Scheduler: next_fire for rate()/cron(), firing on a real and a fake clock, event shape, Input, skips."""
import json
import logging
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from localcloud.model import InvocationError, Schedule
from localcloud.scheduler import Scheduler
from recorder import Recorder

UTC = timezone.utc
ARN = "arn:aws:events:us-east-1:123456789012:rule/stack-Tick"
MON = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)       # a Monday


def at(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("expression, after, expected", [
    ("rate(1 minute)", MON, at(2026, 11, 23, 10, 1)),
    ("rate(5 minutes)", at(2026, 11, 23, 10, 0, 30), at(2026, 11, 23, 10, 5, 30)),
    ("rate(1 hour)", MON, at(2026, 11, 23, 11, 0)),
    ("rate(2 days)", MON, at(2026, 11, 25, 10, 0)),
    ("cron(0 10 ? * MON-FRI *)", MON, at(2026, 11, 24, 10, 0)),
    ("cron(0 10 ? * MON-FRI *)", at(2026, 11, 23, 9, 59, 59), at(2026, 11, 23, 10, 0)),
    ("cron(0 10 ? * MON-FRI *)", at(2026, 11, 27, 10, 0), at(2026, 11, 30, 10, 0)),    # Fri -> Mon
    ("cron(0/15 * * * ? *)", at(2026, 11, 23, 10, 7, 30), at(2026, 11, 23, 10, 15)),
    ("cron(0/15 * * * ? *)", at(2026, 11, 23, 10, 45), at(2026, 11, 23, 11, 0)),
    ("cron(0/15 * * * ? *)", at(2026, 12, 31, 23, 59), at(2027, 1, 1, 0, 0)),
    ("cron(0 0 L * ? *)", MON, at(2026, 11, 30, 0, 0)),
    ("cron(0 0 L * ? *)", at(2027, 2, 1), at(2027, 2, 28, 0, 0)),
    ("cron(0 0 L * ? *)", at(2028, 2, 1), at(2028, 2, 29, 0, 0)),
    ("cron(0 12 L-2 * ? *)", MON, at(2026, 11, 28, 12, 0)),
    ("cron(0 9 15W * ? *)", at(2026, 11, 1), at(2026, 11, 16, 9, 0)),     # 15th is a Sunday
    ("cron(0 9 15W * ? *)", at(2026, 8, 1), at(2026, 8, 14, 9, 0)),       # 15th is a Saturday
    ("cron(0 8 ? * MON#1 *)", MON, at(2026, 12, 7, 8, 0)),
    ("cron(0 8 ? * 6L *)", MON, at(2026, 11, 27, 8, 0)),                  # last Friday
    ("cron(30 18 ? * SAT,SUN *)", MON, at(2026, 11, 28, 18, 30)),
    ("cron(0 10 1 JAN,JUL ? *)", MON, at(2027, 1, 1, 10, 0)),
    ("cron(15 10 ? JAN-MAR TUE 2027)", MON, at(2027, 1, 5, 10, 15)),
    ("cron(0 0 29 FEB ? *)", MON, at(2028, 2, 29, 0, 0)),
    ("cron(0 0 31 * ? *)", at(2027, 2, 1), at(2027, 3, 31, 0, 0)),
    ("cron(0 0 1 1 ? 2020)", MON, None),
])
def test_next_fire(expression, after, expected):
    assert Scheduler.next_fire(expression, after) == expected


def test_next_fire_treats_naive_datetimes_as_utc():
    assert Scheduler.next_fire("cron(0 10 ? * MON-FRI *)", datetime(2026, 11, 23, 9)) == at(2026, 11, 23, 10)


@pytest.mark.parametrize("expression", [
    "rate(0 minutes)", "rate(5 weeks)", "rate(five minutes)", "every 5 minutes",
    "cron(0 10 * * ? )", "cron(0 10 * * * *)", "cron(0 10 ? * ? *)", "cron(x 10 * * ? *)",
    "cron(75 10 * * ? *)", "cron(0 10 * 13 ? *)", "cron(0 10 ? * 8 *)", "cron(0 10 32 * ? *)",
])
def test_invalid_expressions_raise(expression):
    with pytest.raises(ValueError):
        Scheduler.next_fire(expression, MON)


class FakeClock:
    def __init__(self, start: datetime):
        self.now = start.timestamp()

    def __call__(self):
        return self.now

    def set(self, when: datetime):
        self.now = when.timestamp()


@pytest.fixture
def scheduler():
    """Build and start a Scheduler; stopped at teardown."""
    started = []

    def make(schedules, invoke, **kwargs):
        sched = Scheduler(schedules, invoke, **kwargs)
        sched.start()
        started.append(sched)
        return sched

    yield make
    for sched in started:
        sched.stop()


def schedule(expression, name="Tick", **kwargs):
    return Schedule(function_id="TickFn", name=name, expression=expression, rule_arn=ARN, **kwargs)


@pytest.mark.timeout(15)
def test_scaled_rate_fires_repeatedly_with_scheduled_event_shape(scheduler):
    rec = Recorder()
    started = time.monotonic()
    scheduler([schedule("rate(1 minute)")], rec, region="eu-west-1", account="111122223333", rate_scale=0.02)
    rec.wait_for(3, timeout=6)
    starts = [t - started for t, _, _, _ in rec.calls[:3]]
    # Lower bounds only: a fire can come late on a busy machine, never early. Fires sit on the schedule's
    # grid (one scaled period = 1.2 s), so a late fire may be followed by an on-time one less than a
    # period later; what can't happen is the n-th fire before n periods have passed.
    assert all(at >= 1.2 * n - 0.1 for n, at in enumerate(starts, start=1)), starts
    assert {(f, trig) for _, f, _, trig in rec.calls} == {("TickFn", "schedule:Tick")}
    events = rec.events()
    for event in events:
        assert set(event) == {"version", "id", "detail-type", "source", "account", "time", "region",
                              "resources", "detail"}
        assert event["version"] == "0" and event["source"] == "aws.events"
        assert event["detail-type"] == "Scheduled Event"
        assert (event["account"], event["region"], event["resources"], event["detail"]) == (
            "111122223333", "eu-west-1", [ARN], {})
        uuid.UUID(event["id"])
        fired = datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert abs((fired - datetime.now(UTC)).total_seconds()) < 10
    assert len({e["id"] for e in events}) == len(events)


@pytest.mark.timeout(15)
def test_cron_fires_at_its_minute_on_the_clock(scheduler):
    clock = FakeClock(at(2026, 11, 23, 9, 59, 58))
    rec = Recorder()
    scheduler([schedule("cron(0 10 ? * MON-FRI *)", input=None)], rec, clock=clock, rate_scale=0.01)
    time.sleep(0.5)
    assert rec.calls == []
    clock.set(at(2026, 11, 23, 10, 0, 0))
    rec.wait_for(1)
    assert rec.events()[0]["time"] == "2026-11-23T10:00:00Z"
    clock.set(at(2026, 11, 23, 23, 0))
    time.sleep(0.5)
    assert len(rec.calls) == 1, "cron schedules ignore rate_scale and fire once per matching minute"
    clock.set(at(2026, 11, 24, 10, 0, 1))
    rec.wait_for(2)
    assert rec.events()[1]["time"] == "2026-11-24T10:00:00Z"


@pytest.mark.timeout(15)
def test_input_replaces_the_event(scheduler):
    clock = FakeClock(MON)
    rec = Recorder()
    scheduler([schedule("rate(5 minutes)", input='{"job": "digest", "n": [1, 2]}')], rec, clock=clock)
    clock.set(MON + timedelta(minutes=5))
    rec.wait_for(1)
    assert rec.events() == [{"job": "digest", "n": [1, 2]}]


@pytest.mark.timeout(15)
def test_disabled_schedule_never_fires(scheduler):
    clock = FakeClock(MON)
    rec = Recorder()
    scheduler([schedule("rate(1 minute)", name="Off", enabled=False), schedule("rate(1 minute)", name="On")],
              rec, clock=clock)
    for minutes in range(1, 4):
        clock.set(MON + timedelta(minutes=minutes))
        rec.wait_for(minutes)
    time.sleep(0.3)
    assert [trigger for _, _, _, trigger in rec.calls] == ["schedule:On"] * 3


@pytest.mark.timeout(15)
def test_missed_fires_are_skipped_not_bunched(scheduler, caplog):
    clock = FakeClock(MON)
    rec = Recorder()
    with caplog.at_level(logging.WARNING):
        sched = scheduler([schedule("rate(1 minute)")], rec, clock=clock)
        clock.set(MON + timedelta(minutes=1))
        rec.wait_for(1)
        clock.set(MON + timedelta(minutes=11, seconds=30))   # busy (or asleep) for ten minutes
        rec.wait_for(2)
        time.sleep(0.5)
    assert [e["time"] for e in rec.events()] == ["2026-11-23T10:01:00Z", "2026-11-23T10:11:00Z"]
    assert sched.stats["skipped"] == 9 and "skipped 9 missed fire(s)" in caplog.text
    clock.set(MON + timedelta(minutes=12))
    rec.wait_for(3)
    assert rec.events()[2]["time"] == "2026-11-23T10:12:00Z"


@pytest.mark.timeout(15)
def test_slow_handler_does_not_delay_the_next_fire(scheduler):
    third_started = threading.Event()

    def slow(event):
        # Every call runs until a third one has started: if fires waited for the handler, none would start.
        third_started.wait(timeout=20)
    rec = Recorder(slow)
    scheduler([schedule("rate(1 minute)")], rec, rate_scale=0.015)     # every 0.9 s
    rec.wait_for(3, timeout=10)
    third_started.set()
    assert len(rec.calls) >= 3


@pytest.mark.timeout(15)
def test_handler_error_is_logged_with_its_trace(scheduler, caplog):
    def fail(event):
        raise InvocationError("no db", "OperationalError", "Traceback (most recent call last):\n File app.py")

    clock = FakeClock(MON)
    rec = Recorder(fail)
    with caplog.at_level(logging.ERROR):
        sched = scheduler([schedule("cron(* * * * ? *)")], rec, clock=clock)
        clock.set(MON + timedelta(minutes=1))
        rec.wait_for(1)
        deadline = time.monotonic() + 3
        while sched.stats["errors"] < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert sched.stats == {"fired": 1, "skipped": 0, "errors": 1}
    assert "OperationalError: no db" in caplog.text and "File app.py" in caplog.text


def test_bad_schedule_is_rejected_up_front():
    with pytest.raises(ValueError):
        Scheduler([schedule("cron(0 10 * * * *)")], Recorder())
    with pytest.raises(json.JSONDecodeError):
        Scheduler([schedule("rate(1 hour)", input="{not json")], Recorder())


@pytest.mark.timeout(10)
def test_stop_is_prompt(scheduler):
    sched = scheduler([schedule("rate(1 day)")], Recorder())
    timer = sched._thread
    assert timer.is_alive()
    sched.stop()        # joins the timer for at most 5 s: it must wake from its day-long wait, not time out
    assert not timer.is_alive()
