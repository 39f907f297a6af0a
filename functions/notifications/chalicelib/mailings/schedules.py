"""The start of each mailing as its own one-off EventBridge Scheduler schedule (at()), or an immediate
dispatch for a mailing that should already be running. The minute sweep catches anything missed."""
from datetime import timedelta, timezone

from common import aws, queue

from ..queue_messages import StartMailing


def name(settings, mailing_id):
    return f"{settings.schedule_prefix}-mailing-{mailing_id}"


def at_expression(when):
    """at(...) in UTC, rounded up to the second: firing a moment early would find the mailing not due."""
    utc = when.astimezone(timezone.utc)
    if utc.microsecond:
        utc = utc.replace(microsecond=0) + timedelta(seconds=1)
    return f"at({utc.strftime('%Y-%m-%dT%H:%M:%S')})"


def arrange(settings, mailing, now):
    """Make the start happen: a schedule at a future start, a dispatch now for a running one, nothing after
    the end or once dispatched. Returns "scheduled", "dispatching" or "none"."""
    if mailing["dispatch_state"] != "pending" or mailing["end_at"] <= now:
        remove(settings, mailing["id"])
        return "none"
    if mailing["start_at"] <= now:
        remove(settings, mailing["id"])
        queue.send(settings.dispatch_queue_url, StartMailing(mailing["id"]).body())
        return "dispatching"
    _put(settings, mailing)
    return "scheduled"


def _put(settings, mailing):
    scheduler = aws.client("scheduler")
    spec = dict(
        Name=name(settings, mailing["id"]), GroupName=settings.schedule_group,
        ScheduleExpression=at_expression(mailing["start_at"]), ScheduleExpressionTimezone="UTC",
        FlexibleTimeWindow={"Mode": "OFF"}, ActionAfterCompletion="DELETE",
        Description=f"start of notifications mailing {mailing['id']}",
        Target={"Arn": settings.dispatcher_arn, "RoleArn": settings.scheduler_role_arn,
                "Input": StartMailing(mailing["id"]).body(),
                "RetryPolicy": {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 3600}})
    try:
        scheduler.update_schedule(**spec)
    except scheduler.exceptions.ResourceNotFoundException:
        scheduler.create_schedule(**spec)


def remove(settings, mailing_id):
    scheduler = aws.client("scheduler")
    try:
        scheduler.delete_schedule(Name=name(settings, mailing_id), GroupName=settings.schedule_group)
    except scheduler.exceptions.ResourceNotFoundException:
        pass
