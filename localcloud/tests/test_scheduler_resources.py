"""AWS::Scheduler::Schedule resources of a template: rate()/cron() ones that target a template function run like
Schedule events; the rest, and the properties not applied, are named at start-up."""
import json

from localcloud import template as tpl

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Job:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: src/, Handler: app.handler, Runtime: python3.11}
  Queue:
    Type: AWS::SQS::Queue
  Hourly:
    Type: AWS::Scheduler::Schedule
    Properties:
      Name: hourly-job
      ScheduleExpression: rate(1 hour)
      FlexibleTimeWindow: {Mode: "OFF"}
      Target:
        Arn: !GetAtt Job.Arn
        RoleArn: arn:aws:iam::123456789012:role/r
        Input: {"kind": "hourly"}
        RetryPolicy: {MaximumRetryAttempts: 3}
  Paused:
    Type: AWS::Scheduler::Schedule
    Properties:
      ScheduleExpression: cron(0 3 * * ? *)
      State: DISABLED
      FlexibleTimeWindow: {Mode: "OFF"}
      Target: {Arn: !GetAtt Job.Arn, RoleArn: arn:aws:iam::123456789012:role/r}
  Once:
    Type: AWS::Scheduler::Schedule
    Properties:
      ScheduleExpression: at(2030-01-01T00:00:00)
      FlexibleTimeWindow: {Mode: "OFF"}
      Target: {Arn: !GetAtt Job.Arn, RoleArn: arn:aws:iam::123456789012:role/r}
  ToQueue:
    Type: AWS::Scheduler::Schedule
    Properties:
      ScheduleExpression: rate(5 minutes)
      FlexibleTimeWindow: {Mode: "OFF"}
      Target: {Arn: !GetAtt Queue.Arn, RoleArn: arn:aws:iam::123456789012:role/r}
Outputs:
  ScheduleArn:
    Value: !GetAtt Hourly.Arn
  ScheduleName:
    Value: !Ref Hourly
"""


def stack(tmp_path):
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    return tpl.Stack(tmp_path / "template.yaml", stack_name="s")


def test_rate_and_cron_schedules_of_a_function_run_with_their_input(tmp_path):
    schedules = {s.name: s for s in stack(tmp_path).schedules()}
    assert set(schedules) == {"Hourly", "Paused"}
    hourly, paused = schedules["Hourly"], schedules["Paused"]
    assert (hourly.function_id, hourly.expression, hourly.enabled) == ("Job", "rate(1 hour)", True)
    assert json.loads(hourly.input) == {"kind": "hourly"}
    assert hourly.rule_arn == "arn:aws:scheduler:us-east-1:123456789012:schedule/default/hourly-job"
    assert not paused.enabled and paused.input == "{}"      # a Scheduler target without Input gets {}
    outputs = stack(tmp_path).outputs()
    assert outputs == {"ScheduleArn": hourly.rule_arn, "ScheduleName": "hourly-job"}


def test_what_is_not_run_is_named(tmp_path):
    lines = stack(tmp_path).not_emulated()
    assert "property Target.RetryPolicy of Hourly (AWS::Scheduler::Schedule) is not applied locally" in lines
    for logical in ("Once", "ToQueue"):
        assert f"schedule {logical} (AWS::Scheduler::Schedule) is not emulated locally (only rate() and cron() " \
               "schedules of a function of this template are)" in lines
    assert not [line for line in lines if "Paused" in line or "resource kind" in line]
