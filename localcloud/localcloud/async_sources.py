"""Lambda's asynchronous event sources: SNS topics, S3 bucket notifications and EventBridge rules.

moto has topics with subscriptions and filter policies, bucket notifications with prefix/suffix filters,
and rules with event patterns and input transformers, but it never invokes a local function. So each such
event source is a queue of its own that moto delivers into (an SNS subscription, a bucket's
QueueConfiguration, a rule's target), and a QueueDelivery polls it: one invocation per message, in the
event shape Lambda gets, retried twice after a failure (Lambda's asynchronous invocation), then dropped with
an error line naming the message.
"""
import json
import logging
import threading
import uuid

from botocore.exceptions import ClientError

from localcloud.model import InvocationError

log = logging.getLogger("localcloud.events")
ATTEMPTS = 3                # the first delivery and Lambda's two asynchronous retries


def sns_event(envelope, subscription_arn):
    """The event Lambda gets for one SNS notification (the JSON envelope moto puts into an SQS queue)."""
    return {"Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": subscription_arn,
        "Sns": {
            "Type": envelope.get("Type", "Notification"), "MessageId": envelope["MessageId"],
            "TopicArn": envelope["TopicArn"], "Subject": envelope.get("Subject"), "Message": envelope["Message"],
            "Timestamp": envelope["Timestamp"], "SignatureVersion": envelope.get("SignatureVersion", "1"),
            "Signature": envelope.get("Signature", ""), "SigningCertUrl": envelope.get("SigningCertURL", ""),
            "UnsubscribeUrl": envelope.get("UnsubscribeURL", ""),
            "MessageAttributes": envelope.get("MessageAttributes", {}),
        }}]}


def s3_event(body):
    """S3's notification as moto queues it is the event Lambda gets; its s3:TestEvent never reaches Lambda."""
    return body if "Records" in body else None


def eventbridge_event(target_input=None, input_path=None, account=None):
    """What a rule's target gets: the event, or the target's constant Input, or the part InputPath selects
    (moto applies InputTransformer itself, and leaves "account" out of the whole event)."""
    def convert(event):
        if target_input is not None:
            return json.loads(target_input)
        if isinstance(event, dict) and "detail-type" in event and account:
            event.setdefault("account", account)
        if input_path and input_path != "$":
            for part in input_path.removeprefix("$.").split("."):
                event = event.get(part) if isinstance(event, dict) else None
        return event
    return convert


def forward_to(rule, sqs_client, sns_client):
    """invoke(_, event, _) for a rule whose target is a queue (SendMessage, SqsParameters' group on a FIFO queue)
    or a topic (Publish): the event as JSON, a transformer's text as it is; a refused send is an InvocationError,
    so the message is tried again like a failed invocation."""
    def send(_target, event, _trigger):
        body = event if isinstance(event, str) else json.dumps(event)
        try:
            if rule.target_kind == "sns":
                sns_client.publish(TopicArn=rule.target, Message=body)
                return None
            args = {"QueueUrl": rule.target, "MessageBody": body}
            if rule.target.endswith(".fifo"):
                args.update(MessageGroupId=rule.message_group or rule.name, MessageDeduplicationId=uuid.uuid4().hex)
            sqs_client.send_message(**args)
        except ClientError as exc:
            raise InvocationError(f"{rule.target_label}: {exc}", "TargetError") from None
        return None
    return send


class BackgroundLoop:
    """A daemon thread running self._run until stop() (which waits for the current round to end)."""

    def __init__(self, name):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=name)

    def start(self):
        self._thread.start()
        return self

    def stop(self, timeout=60.0):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self):
        raise NotImplementedError


class QueueDelivery(BackgroundLoop):
    """Delivers the messages of one event source's queue to its function, one invocation each."""

    def __init__(self, function_id, name, queue_url, invoke, sqs_client, trigger, to_event, retry_delay=1):
        super().__init__(f"{trigger}-{function_id}-{name}")
        self.function_id = function_id
        self.name = name
        self.queue_url = queue_url
        self.invoke = invoke
        self.sqs = sqs_client
        self.trigger = trigger
        self.to_event = to_event          # message body (parsed JSON) -> event, or None: not for the function
        self.retry_delay = retry_delay

    def _run(self):
        while not self._stop.is_set():
            try:
                messages = self.sqs.receive_message(
                    QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                    AttributeNames=["ApproximateReceiveCount"]).get("Messages", [])
            except Exception as exc:  # noqa: BLE001 - the endpoint going away at stop, or a hiccup: try again
                if not self._stop.wait(1):
                    log.warning("%s delivery to %s: receive failed: %s", self.trigger, self.function_id, exc)
                continue
            for message in messages:
                self._deliver(message)

    def _deliver(self, message):
        fn = self.function_id
        try:
            event = self.to_event(json.loads(message["Body"]))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            log.error("%s delivery to %s: unusable message %s dropped: %s", self.trigger, fn, message["MessageId"],
                      exc, extra={"function": fn})
            event = None
        if event is not None:
            try:
                self.invoke(fn, event, self.trigger)
            except InvocationError as exc:
                attempt = int(message.get("Attributes", {}).get("ApproximateReceiveCount", ATTEMPTS))
                if attempt < ATTEMPTS:
                    self.sqs.change_message_visibility(QueueUrl=self.queue_url,
                                                       ReceiptHandle=message["ReceiptHandle"],
                                                       VisibilityTimeout=self.retry_delay * attempt)
                    return
                log.error("%s message %s to %s dropped after %d attempts: %s", self.trigger, message["MessageId"],
                          fn, attempt, exc, extra={"function": fn})
        self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
