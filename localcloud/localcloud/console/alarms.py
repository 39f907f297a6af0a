"""The template's CloudWatch alarms, evaluated from what the local cloud sees, so a local run warns as AWS
would: a dead-letter queue with a message, a function's errors or throttles, a queue's oldest message.

Each alarm's metric is read over its own window (Period x EvaluationPeriods) from the same sources the
console shows: queue counts and messages from SQS / the embedded moto, invocations and throttles from the
runtime. A metric the local cloud does not measure is INSUFFICIENT_DATA with the reason, never a guess.
"""
import time

COMPARE = {
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
}
SIGN = {"GreaterThanThreshold": ">", "GreaterThanOrEqualToThreshold": ">=", "LessThanThreshold": "<",
        "LessThanOrEqualToThreshold": "<="}
QUEUE_COUNTS = {"ApproximateNumberOfMessagesVisible": "visible", "ApproximateNumberOfMessagesNotVisible": "in_flight",
                "ApproximateNumberOfMessagesDelayed": "delayed"}


def evaluate(cloud, resources, invocations, now=None):
    """[{id, state: ALARM|OK|INSUFFICIENT_DATA, value, reason, condition, metric, description}] for every
    alarm of the template."""
    now = time.time() if now is None else now
    stack = cloud.stack
    queues = {q.name: q.logical_id for q in stack.queues()}
    functions = {stack.resolver.refs.get(fid, fid): fid for fid in cloud.runtime.pools}
    out = []
    for alarm in stack.alarms():
        window = alarm.period * alarm.evaluation_periods
        value, reason = _metric(alarm, window, now, queues, functions, cloud.runtime, resources, invocations)
        compare = COMPARE.get(alarm.comparison)
        if value is None or compare is None:
            state = "INSUFFICIENT_DATA"
            reason = reason or f"comparison {alarm.comparison} is not evaluated locally"
        else:
            state = "ALARM" if compare(value, alarm.threshold) else "OK"
        target = alarm.dimensions.get("QueueName") or alarm.dimensions.get("FunctionName") or ""
        out.append({"id": alarm.logical_id, "state": state, "value": value, "reason": reason,
                    "metric": f"{alarm.namespace} {alarm.metric} {target}".strip(),
                    "condition": f"{alarm.statistic} {SIGN.get(alarm.comparison, alarm.comparison)} "
                                 f"{alarm.threshold:g} over {window} s",
                    "description": alarm.description})
    return out


def _metric(alarm, window, now, queues, functions, runtime, resources, invocations):
    """(value, reason): the alarm's metric over its window, or (None, why not)."""
    if alarm.namespace == "AWS/SQS":
        queue = queues.get(alarm.dimensions.get("QueueName"))
        if queue is None:
            return None, "its queue is not one of this template's"
        if alarm.metric in QUEUE_COUNTS:
            return resources.counts(queue)[QUEUE_COUNTS[alarm.metric]], ""
        if alarm.metric == "ApproximateAgeOfOldestMessage":
            age = resources.oldest_age(queue, now)
            return (None, "the queue is not in the embedded moto") if age is False else (age, "")
    elif alarm.namespace == "AWS/Lambda":
        fid = functions.get(alarm.dimensions.get("FunctionName"))
        if fid is None:
            return None, "its function does not run here"
        since = now - window
        if alarm.metric == "Throttles":
            return sum(1 for at in list(runtime.pools[fid].throttled) if at >= since), ""
        done = [i for i in invocations.recent(fid, limit=100000) if i["started"] >= since]
        if alarm.metric == "Errors":
            return sum(1 for i in done if i["error_type"]), ""
        if alarm.metric == "Invocations":
            return len(done), ""
        if alarm.metric == "Duration" and done:
            durations = [i["duration_ms"] for i in done]
            return (max(durations) if alarm.statistic == "Maximum" else sum(durations) / len(durations)), ""
    return None, f"metric {alarm.namespace} {alarm.metric} is not measured locally".replace("  ", " ")
