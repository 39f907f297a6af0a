"""EventBridge Scheduler schedules in the local cloud: at() fires once with the target's Input and is deleted
after (ActionAfterCompletion DELETE), future ones wait, other targets are not fired, rate() repeats."""
import json
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import pytest

from localcloud.scheduler import SchedulerSchedules, at_moment
from recorder import Recorder

ARN = "arn:aws:lambda:us-east-1:123456789012:function:stack-Dispatch"
ROLE = "arn:aws:iam::123456789012:role/stack-SchedulerRole"
NOW = datetime(2030, 5, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def scheduler(aws_endpoint):
    client = boto3.client("scheduler", endpoint_url=aws_endpoint, region_name="us-east-1")
    yield client
    for page in [client.list_schedules()]:
        for item in page.get("Schedules", []):
            client.delete_schedule(Name=item["Name"], GroupName=item.get("GroupName") or "default")


def create(client, expression, arn=ARN, payload=None, after="DELETE", zone="UTC"):
    name = f"t-{uuid.uuid4().hex[:10]}"
    client.create_schedule(Name=name, ScheduleExpression=expression, ScheduleExpressionTimezone=zone,
                           FlexibleTimeWindow={"Mode": "OFF"}, ActionAfterCompletion=after,
                           Target={"Arn": arn, "RoleArn": ROLE, "Input": json.dumps(payload or {"n": name})})
    return name


def names(client):
    return {item["Name"] for item in client.list_schedules().get("Schedules", [])}


def test_at_moment_reads_the_schedule_time_zone():
    assert at_moment("at(2030-05-01T12:00:00)") == NOW
    assert at_moment("at(2030-05-01T15:00:00)", "Europe/Moscow") == NOW
    assert at_moment("rate(1 minute)") is None


def test_due_at_schedule_fires_once_with_its_input_and_is_deleted(scheduler):
    recorder = Recorder()
    clock = [NOW.timestamp()]
    due = create(scheduler, "at(2030-05-01T11:59:59)", payload={"mailing_id": 7})
    later = create(scheduler, "at(2030-05-01T12:10:00)", payload={"mailing_id": 8})
    schedules = SchedulerSchedules(scheduler, {ARN: "DispatchFunction"}, recorder, clock=lambda: clock[0])

    assert schedules.poll_once() == [due]
    recorder.wait_for(1)
    assert recorder.calls[0][1] == "DispatchFunction" and recorder.events() == [{"mailing_id": 7}]
    assert due not in names(scheduler) and later in names(scheduler)
    assert schedules.poll_once() == []                      # never twice

    clock[0] = (NOW + timedelta(minutes=10)).timestamp()
    assert schedules.poll_once() == [later]
    recorder.wait_for(2)
    assert recorder.events()[1] == {"mailing_id": 8}


def test_kept_at_schedule_fires_once_and_stays(scheduler):
    recorder = Recorder()
    name = create(scheduler, "at(2030-05-01T11:00:00)", after="NONE")
    schedules = SchedulerSchedules(scheduler, {ARN: "DispatchFunction"}, recorder, clock=lambda: NOW.timestamp())
    assert schedules.poll_once() == [name]
    assert schedules.poll_once() == []
    recorder.wait_for(1)
    assert name in names(scheduler)


def test_a_target_outside_the_stack_is_not_invoked(scheduler):
    recorder = Recorder()
    create(scheduler, "at(2030-05-01T11:00:00)", arn="arn:aws:lambda:us-east-1:123456789012:function:other")
    schedules = SchedulerSchedules(scheduler, {ARN: "DispatchFunction"}, recorder, clock=lambda: NOW.timestamp())
    schedules.poll_once()
    assert recorder.calls == []


def test_with_a_change_count_the_schedules_are_read_again_only_after_a_change(scheduler):
    recorder, lists, version = Recorder(), [], [1]
    scheduler.meta.events.register("before-call.scheduler.ListSchedules", lambda **_: lists.append(1))
    schedules = SchedulerSchedules(scheduler, {ARN: "DispatchFunction"}, recorder, clock=lambda: NOW.timestamp(),
                                   changes=lambda: version[0])
    assert schedules.poll_once() == [] and schedules.poll_once() == [] and len(lists) == 1
    name = create(scheduler, "at(2030-05-01T11:00:00)")
    assert schedules.poll_once() == []            # no change counted: the last read stands
    version[0] += 1
    assert schedules.poll_once() == [name] and len(lists) == 2
    recorder.wait_for(1)
    assert schedules.poll_once() == [] and len(lists) == 2


def test_rate_schedule_repeats(scheduler):
    recorder = Recorder()
    clock = [NOW.timestamp()]
    name = create(scheduler, "rate(1 minute)", after="NONE")
    schedules = SchedulerSchedules(scheduler, {ARN: "DispatchFunction"}, recorder, clock=lambda: clock[0])
    assert schedules.poll_once() == []                      # first fire one period after it is seen
    for minutes in (1, 2):
        clock[0] = (NOW + timedelta(minutes=minutes, seconds=1)).timestamp()
        assert schedules.poll_once() == [name]
    recorder.wait_for(2)


def test_the_cloud_fires_an_at_schedule_at_its_function(start_cloud, scheduler, tmp_path):
    """End to end: a schedule created through the API fires the template's function, then is gone."""
    template = Path(__file__).parent / "template.yaml"
    cloud = start_cloud(template=template, functions=["ScheduledFunction"], env={"RECORD_DIR": str(tmp_path)})
    arn = cloud.stack.resolver.attrs["ScheduledFunction"]["Arn"]
    past = (datetime.now(timezone.utc) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")
    name = create(scheduler, f"at({past})", arn=arn, payload={"mailing_id": 42})
    deadline = time.monotonic() + 20
    records = []
    while time.monotonic() < deadline and not records:
        records = list((tmp_path / "schedule").glob("*.json")) if (tmp_path / "schedule").exists() else []
        time.sleep(0.2)
    assert [json.loads(r.read_text())["payload"] for r in records] == [{"mailing_id": 42}]
    assert name not in names(scheduler)
