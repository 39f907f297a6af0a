"""The cloud's resources as the console shows them: functions with triggers, queues with counts,
schedules, WebSocket connections and SES mail. Reads through the AWS APIs where they say enough,
and straight from the embedded moto where they do not (peeking without receiving, sent mail)."""
import email
import email.policy
import time
from datetime import datetime, timezone

import requests

from .redact import mask_query

MOVE_BATCH = 10


class Resources:
    """Read and act on one running Cloud."""

    def __init__(self, cloud):
        self.cloud = cloud
        self.sqs = cloud.clients["sqs"]

    # ---- functions ---------------------------------------------------------------------------------

    def functions(self):
        """[{id, handler, timeout, memory, concurrency, triggers: [text]}] for the functions that run."""
        stack, runtime = self.cloud.stack, self.cloud.runtime
        triggers = {fid: [] for fid in runtime.pools}
        for api_id, api in stack.rest_apis().items():
            for route in api.routes:
                triggers.get(route.function_id, []).append(f"HTTP {route.method} {route.path} ({api_id})")
        for api_id, api in stack.ws_apis().items():
            for key, fid in api.routes.items():
                triggers.get(fid, []).append(f"WebSocket {key} ({api_id})")
        for mapping in stack.sqs_mappings():
            triggers.get(mapping.function_id, []).append(
                f"SQS {mapping.queue_logical_id} (batch {mapping.batch_size})")
        for mapping in stack.stream_mappings() + stack.kinesis_mappings():
            kind = "Kinesis" if mapping.source == "kinesis" else "DynamoDB"
            triggers.get(mapping.function_id, []).append(
                f"{kind} stream {mapping.table_logical_id} (batch {mapping.batch_size})")
        for sched in stack.schedules():
            triggers.get(sched.function_id, []).append(f"Schedule {sched.name}: {sched.expression}")
        for sub in stack.sns_subscriptions():
            triggers.get(sub.function_id, []).append(f"SNS {sub.topic_arn.rsplit(':', 1)[-1]} ({sub.name})")
        for n in stack.s3_notifications():
            triggers.get(n.function_id, []).append(f"S3 {n.bucket} {', '.join(n.events)} ({n.name})")
        for rule in stack.event_rules():
            triggers.get(rule.function_id, []).append(f"EventBridge {rule.bus} ({rule.name})")
        out = []
        for fid, pool in runtime.pools.items():
            fn = pool.fn
            out.append({"id": fid, "handler": fn.handler, "timeout": fn.timeout, "memory": fn.memory,
                        "concurrency": pool.concurrency, "triggers": triggers[fid]})
        return out

    # ---- queues ------------------------------------------------------------------------------------

    def queues(self):
        """Every template queue: counts, its DLQ and depth, the functions it feeds."""
        consumers = {}
        for mapping in self.cloud.stack.sqs_mappings():
            consumers.setdefault(mapping.queue_logical_id, []).append(mapping.function_id)
        queues = self.cloud.stack.queues()
        sources = {q.dlq_logical_id: q.logical_id for q in queues if q.dlq_logical_id}
        counts = {q.logical_id: self.counts(q.logical_id) for q in queues}
        out = []
        for q in queues:
            out.append(dict(counts[q.logical_id], id=q.logical_id, name=q.name, url=self.url(q.logical_id),
                            dlq=q.dlq_logical_id, max_receive_count=q.max_receive_count,
                            dlq_depth=(counts[q.dlq_logical_id]["total"] if q.dlq_logical_id in counts else None),
                            source=sources.get(q.logical_id), consumers=consumers.get(q.logical_id, [])))
        return out

    def queue(self, logical_id):
        return next((q for q in self.queues() if q["id"] == logical_id), None)

    def url(self, logical_id):
        return self.cloud.physical_id(logical_id)

    def counts(self, logical_id):
        attrs = self.sqs.get_queue_attributes(QueueUrl=self.url(logical_id), AttributeNames=["All"])["Attributes"]
        visible = int(attrs.get("ApproximateNumberOfMessages", 0))
        in_flight = int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0))
        delayed = int(attrs.get("ApproximateNumberOfMessagesDelayed", 0))
        # moto counts a delayed message as not visible too; SQS counts it once, as delayed
        in_flight = max(0, in_flight - delayed)
        return {"visible": visible, "in_flight": in_flight, "delayed": delayed,
                "total": visible + in_flight + delayed}

    def peek(self, logical_id, limit=20):
        """Up to `limit` messages without receiving them (no receive count, no visibility change):
        read from the embedded moto. None when the endpoint is another process (e.g. LocalStack)."""
        queue = self._moto_queue(logical_id)
        if queue is None:
            return None
        now_ms = time.time() * 1000
        out = []
        for message in list(queue._messages)[:limit]:
            state = ("delayed" if message.delayed else "in flight" if not message.visible else "visible")
            out.append({"id": message.id, "body": message.body, "state": state,
                        "receive_count": message.approximate_receive_count,
                        "sent": _iso(message.sent_timestamp / 1000) if message.sent_timestamp else "",
                        "ready_in": max(0.0, (max(message.visible_at, message.delayed_until) - now_ms) / 1000),
                        "attributes": {k: v.get("StringValue", v.get("BinaryValue"))
                                       for k, v in message.message_attributes.items()}})
        return out

    def oldest_age(self, logical_id, now=None):
        """Seconds since the oldest message still in the queue was sent (0 when empty), as SQS's
        ApproximateAgeOfOldestMessage; False when the queue is not in the embedded moto."""
        queue = self._moto_queue(logical_id)
        if queue is None:
            return False
        sent = [m.sent_timestamp for m in list(queue._messages) if m.sent_timestamp]
        return max(0.0, (now if now is not None else time.time()) - min(sent) / 1000) if sent else 0

    def redrive(self, dlq_logical_id, limit=100000):
        """Move every message of a DLQ back to its source queue (body and attributes kept); returns the count."""
        source = next((q.logical_id for q in self.cloud.stack.queues() if q.dlq_logical_id == dlq_logical_id), None)
        if source is None:
            raise ValueError(f"{dlq_logical_id} is no queue's dead-letter queue")
        dlq_url, source_url = self.url(dlq_logical_id), self.url(source)
        moved = 0
        while moved < limit:
            messages = self.sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=MOVE_BATCH, WaitTimeSeconds=0,
                                                VisibilityTimeout=30, MessageAttributeNames=["All"],
                                                AttributeNames=["MessageGroupId"]).get("Messages", [])
            if not messages:
                break
            entries = [{"Id": str(i), "MessageBody": m["Body"]} for i, m in enumerate(messages)]
            for entry, message in zip(entries, messages):
                if message.get("MessageAttributes"):
                    entry["MessageAttributes"] = message["MessageAttributes"]
                if source_url.endswith(".fifo"):
                    # A FIFO queue takes nothing without its group; a new deduplication id, as the message's own
                    # (or its content) was seen by the source queue within the last 5 minutes and would be dropped.
                    entry["MessageGroupId"] = message.get("Attributes", {}).get("MessageGroupId", "redrive")
                    entry["MessageDeduplicationId"] = message["MessageId"]
            sent = self.sqs.send_message_batch(QueueUrl=source_url, Entries=entries)
            done = {s["Id"] for s in sent.get("Successful", [])}
            self.sqs.delete_message_batch(QueueUrl=dlq_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages) if str(i) in done])
            moved += len(done)
        return moved

    def purge(self, logical_id):
        self.sqs.purge_queue(QueueUrl=self.url(logical_id))

    def _moto_queue(self, logical_id):
        try:
            from moto.sqs.models import sqs_backends
            name = self.url(logical_id).rstrip("/").rsplit("/", 1)[-1]
            return sqs_backends[self.cloud.stack.account][self.cloud.region].queues.get(name)
        except (ImportError, KeyError):
            return None

    # ---- schedules ---------------------------------------------------------------------------------

    def schedules(self):
        """[{name, function, expression, enabled, next (UTC datetime or None), trigger, source, group, timezone}]:
        the template's rate/cron rules (source "template"), then the EventBridge Scheduler schedules the
        functions created at run time (source "scheduler": one-off at() ones and rate/cron ones, read through
        the Scheduler API)."""
        rows = []
        if self.cloud.scheduler is not None:
            rows += [{"name": s.name, "function": s.function_id, "expression": s.expression, "enabled": s.enabled,
                      "next": due, "trigger": f"schedule:{s.name}", "source": "template", "group": None,
                      "timezone": "UTC"} for s, due in self.cloud.scheduler.next_fires()]
        if self.cloud.scheduler_schedules is not None:
            rows += [dict(row, source="scheduler") for row in self.cloud.scheduler_schedules.listing()]
        return rows

    def run_schedule(self, name):
        return bool(self.cloud.scheduler and self.cloud.scheduler.run_now(name))

    def run_scheduler_schedule(self, group, name):
        return bool(self.cloud.scheduler_schedules and self.cloud.scheduler_schedules.run_now(group, name))

    # ---- WebSocket ---------------------------------------------------------------------------------

    def connections(self):
        """{api logical id: [connection]} for every running WebSocket API; credentials in paths masked (mail_import's
        WebSocket URL carries the account's access token)."""
        return {logical: [dict(c, path=mask_query(c["path"])) for c in gw.connections()]
                for logical, gw in self.cloud.ws.items()}

    def disconnect(self, api_id, connection_id):
        """Close a connection through the API's own @connections Management API; True if it was open."""
        gateway = self.cloud.ws[api_id]
        resp = requests.delete(f"{gateway.management_endpoint}/@connections/{connection_id}", timeout=5)
        return resp.status_code == 204

    # ---- SES ---------------------------------------------------------------------------------------

    def mail(self):
        """Every email sent through SES, oldest first: {id, source, to, subject, text, html, raw}."""
        backend = self._moto_ses()
        if backend is not None:
            return [_mail(vars(m)) for m in list(backend.sent_messages)]
        data = requests.get(f"{self.cloud.aws_endpoint}/moto-api/data.json", timeout=10).json().get("ses", {})
        return [_mail(m) for kind in ("Message", "RawMessage", "TemplateMessage") for m in data.get(kind, [])]

    def _moto_ses(self):
        if self.cloud.moto is None and self._moto_queue(self.cloud.stack.queues()[0].logical_id
                                                        if self.cloud.stack.queues() else "") is None:
            return None      # another process answers AWS calls
        try:
            from moto.ses.models import ses_backends
            return ses_backends[self.cloud.stack.account][self.cloud.region]
        except (ImportError, KeyError):
            return None


def _mail(m):
    """One sent email (moto's Message / RawMessage / TemplateMessage fields) in one shape."""
    out = {"id": m.get("id"), "source": m.get("source", ""), "subject": m.get("subject", ""), "text": "",
           "html": "", "raw": m.get("raw_data")}
    destinations = m.get("destinations") or {}
    if isinstance(destinations, dict):
        out["to"] = [a for key in ("ToAddresses", "CcAddresses", "BccAddresses") for a in destinations.get(key, [])]
    else:
        out["to"] = list(destinations)
    body = m.get("body") or ""
    if body.lstrip().startswith("<"):
        out["html"] = body
    else:
        out["text"] = body
    if out["raw"]:
        parsed = email.message_from_string(out["raw"], policy=email.policy.default)
        out["subject"] = str(parsed.get("Subject", ""))
        out["to"] = out["to"] or [str(parsed.get("To", ""))]
        text, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
        out["text"] = text.get_content() if text else ""
        out["html"] = html.get_content() if html else ""
    if m.get("template"):
        out["subject"] = f"template {m['template']}"
        out["text"] = str(m.get("template_data", ""))
    return out


def _iso(epoch):
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
