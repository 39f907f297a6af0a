"""Lambda's SNS trigger: what a topic publishes reaches the function as the SNS event Lambda gets.

moto has topics, subscriptions and filter policies but never invokes a function, so each SNS event source
is a moto subscription into a queue of its own, and this delivery polls that queue: one invocation per
message (as SNS invokes Lambda), retried twice after a failure (Lambda's asynchronous invocation), then
dropped with an error line naming the message.
"""
import json
import logging
import threading

from local.model import InvocationError, SnsSubscription

log = logging.getLogger("local.sns")
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


class SnsDelivery:
    """Delivers one subscription's messages (from its queue) to its function."""

    def __init__(self, subscription: SnsSubscription, queue_url, subscription_arn, invoke, sqs_client,
                 retry_delay=1):
        self.subscription = subscription
        self.queue_url = queue_url
        self.subscription_arn = subscription_arn
        self.invoke = invoke
        self.sqs = sqs_client
        self.retry_delay = retry_delay
        self.trigger = "sns:" + subscription.topic_arn.rsplit(":", 1)[-1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"sns-{subscription.function_id}-{subscription.name}")

    def start(self):
        self._thread.start()
        return self

    def stop(self, timeout=60.0):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self):
        while not self._stop.is_set():
            try:
                messages = self.sqs.receive_message(
                    QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                    AttributeNames=["ApproximateReceiveCount"]).get("Messages", [])
            except Exception as exc:  # noqa: BLE001 - the endpoint going away at stop, or a hiccup: try again
                if not self._stop.wait(1):
                    log.warning("SNS delivery to %s: receive failed: %s", self.subscription.function_id, exc)
                continue
            for message in messages:
                self._deliver(message)

    def _deliver(self, message):
        fn = self.subscription.function_id
        try:
            envelope = json.loads(message["Body"])
            event = sns_event(envelope, self.subscription_arn)
        except (ValueError, KeyError) as exc:
            log.error("SNS delivery to %s: not an SNS notification, dropped: %s", fn, exc)
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            return
        try:
            self.invoke(fn, event, self.trigger)
        except InvocationError as exc:
            attempt = int(message.get("Attributes", {}).get("ApproximateReceiveCount", ATTEMPTS))
            if attempt < ATTEMPTS:
                self.sqs.change_message_visibility(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"],
                                                   VisibilityTimeout=self.retry_delay * attempt)
                return
            log.error("SNS message %s to %s dropped after %d attempts: %s", envelope["MessageId"], fn, attempt, exc,
                      extra={"function": fn})
        self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
