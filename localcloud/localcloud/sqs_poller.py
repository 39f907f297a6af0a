"""Lambda's SQS event source mapping: long-poll a queue, invoke the function, delete what succeeded."""
import logging
import threading
import time
from typing import Optional

from localcloud import events, filters
from localcloud.model import InvocationError, Invoke, SqsMapping

MAX_RECEIVE = 10            # SQS ReceiveMessage cap per call
MAX_BACKOFF = 5.0
IDLE_WAIT = 5.0             # with a `ready` doorbell: how long one wait for a receivable message lasts
# InvocationError types meaning the execution environment died (killed, crashed, timed out and killed):
# the runtime saw the process end, so the batch is made visible again at once instead of after the queue's
# visibility timeout. On AWS the records' heartbeat (common.heartbeat) stops with the process instead.
PROCESS_DEATHS = {"Runtime.ExitError", "Sandbox.Timedout"}


class SqsPoller:
    """Polls one queue for one function, as AWS Lambda's SQS poller does."""

    def __init__(self, mapping: SqsMapping, invoke: Invoke, sqs_client, region="us-east-1", log=None,
                 wait_seconds=1, concurrency=1, ready=None):
        self.mapping = mapping
        self.invoke = invoke
        self.sqs = sqs_client
        self.region = region
        self.log = log or logging.getLogger("localcloud.sqs")
        self.wait_seconds = max(0, min(20, int(wait_seconds)))
        self.concurrency = max(1, int(concurrency))
        # ready(timeout, stop) -> bool, or None: waits until the queue has a receivable message (True) or the
        # timeout passes (False) without asking the endpoint (moto_patches.wait_until_receivable, for a queue in
        # this process's moto). Each polling thread rings it before a ReceiveMessage, so an idle queue costs
        # no request; without it every thread long-polls a second at a time, as before.
        self.ready = ready
        self.trigger = f"sqs:{mapping.queue_logical_id}"
        self.stats = {"received": 0, "deleted": 0, "failed_batches": 0, "partial_failures": 0,
                      "invocations": 0, "released": 0, "filtered": 0}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list = []

    # ---- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start `concurrency` daemon polling threads (no-op if the mapping is disabled)."""
        if not self.mapping.enabled:
            self.log.info("SQS mapping %s -> %s is disabled", self.mapping.queue_logical_id,
                          self.mapping.function_id)
            return
        self._stop.clear()
        for i in range(self.concurrency):
            name = f"sqs-{self.mapping.queue_logical_id}-{self.mapping.function_id}-{i}"
            thread = threading.Thread(target=self._run, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: Optional[float] = 60.0) -> None:
        """Ask the threads to stop; returns after the current receive and invocation finish."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def _run(self) -> None:
        backoff = 0.0
        while not self._stop.is_set():
            try:
                if self.ready is not None and not self.ready(IDLE_WAIT, self._stop):
                    continue
                if not self.poll_once() and self.wait_seconds == 0:
                    self._stop.wait(0.1)    # short polling an empty queue: don't spin on the endpoint
                backoff = 0.0
            except Exception as exc:  # never let the thread die: SQS down, queue deleted, ...
                backoff = min(MAX_BACKOFF, backoff * 2 or 0.2)
                self.log.warning("SQS poller %s: %s: %s (retry in %.1fs)", self.trigger,
                                 type(exc).__name__, exc, backoff)
                self._stop.wait(backoff)

    # ---- one cycle -------------------------------------------------------------------------------------

    def poll_once(self) -> int:
        """Gather one batch, invoke the function with it and settle it; returns the number of records."""
        messages = self._gather()
        if messages:
            self._process(messages)
        return len(messages)

    def _gather(self) -> list:
        """Receive until batch_size records or the batching window has elapsed (window 0: one receive)."""
        batch_size = max(1, self.mapping.batch_size)
        messages = self._receive(min(MAX_RECEIVE, batch_size), self.wait_seconds)
        if not messages or self.mapping.batching_window <= 0:
            return messages
        deadline = time.monotonic() + self.mapping.batching_window
        while len(messages) < batch_size and not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            wait = min(self.wait_seconds, int(remaining))
            more = self._receive(min(MAX_RECEIVE, batch_size - len(messages)), wait)
            messages.extend(more)
            if not more and wait == 0:
                # short polls under a second left in the window: don't spin on the endpoint
                self._stop.wait(min(0.1, remaining))
        return messages

    def _receive(self, count: int, wait: int) -> list:
        resp = self.sqs.receive_message(
            QueueUrl=self.mapping.queue_url, MaxNumberOfMessages=count, WaitTimeSeconds=wait,
            MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"])
        messages = resp.get("Messages", [])
        self._count("received", len(messages))
        return messages

    def _process(self, messages: list) -> None:
        if self.mapping.filters:
            messages = self._filtered(messages)
            if not messages:
                return
        event = {"Records": [self._record(m) for m in messages]}
        self._count("invocations")
        started = time.monotonic()
        try:
            result = self.invoke(self.mapping.function_id, event, self.trigger)
        except InvocationError as exc:
            self._fail(messages, f"{exc.error_type}: {exc}", started)
            if exc.error_type in PROCESS_DEATHS:
                self._release(messages)
            return
        except Exception as exc:  # a broken invoke callable counts as a failed invocation too
            self._fail(messages, f"{type(exc).__name__}: {exc}", started)
            return
        if not self.mapping.report_batch_item_failures:
            self._succeed(messages, started)
            return
        failed_ids = self._failed_ids(result, {m["MessageId"] for m in messages})
        if failed_ids is None:
            self._fail(messages, f"invalid batchItemFailures response {result!r:.200}", started)
        elif failed_ids:
            self._partial(messages, failed_ids, started)
        else:
            self._succeed(messages, started)

    def _filtered(self, messages: list) -> list:
        """The messages the mapping's FilterCriteria keep; the others are deleted unseen, as Lambda does."""
        by_id = {m["MessageId"]: m for m in messages}
        kept, dropped = filters.keep(self.mapping.filters, [self._record(m) for m in messages], filters.sqs_view)
        if dropped:
            self._delete([by_id[r["messageId"]] for r in dropped])
            self._count("filtered", len(dropped))
            self.log.info("%s <- %s: %d records did not match FilterCriteria, deleted", self.mapping.function_id,
                          self.trigger, len(dropped))
        return [by_id[r["messageId"]] for r in kept]

    # ---- outcomes --------------------------------------------------------------------------------------

    def _succeed(self, messages: list, started: float) -> None:
        self._delete(messages)
        self.log.info("%s <- %s: %d records, ok (%.0f ms)", self.mapping.function_id, self.trigger,
                      len(messages), _ms(started))

    def _fail(self, messages: list, reason: str, started: float) -> None:
        # Nothing is deleted: the records reappear after the visibility timeout, then go to the DLQ.
        self._count("failed_batches")
        self.log.warning("%s <- %s: %d records, batch failed (%.0f ms): %s", self.mapping.function_id,
                         self.trigger, len(messages), _ms(started), reason)

    def _partial(self, messages: list, failed_ids: set, started: float) -> None:
        self._count("partial_failures")
        self._delete([m for m in messages if m["MessageId"] not in failed_ids])
        self.log.warning("%s <- %s: %d records, %d reported failed (%.0f ms): %s", self.mapping.function_id,
                         self.trigger, len(messages), len(failed_ids), _ms(started),
                         ", ".join(sorted(failed_ids)))

    def _release(self, messages: list) -> None:
        """Make a dead worker's batch visible again now (ChangeMessageVisibility 0)."""
        for start in range(0, len(messages), MAX_RECEIVE):
            chunk = messages[start:start + MAX_RECEIVE]
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                       for i, m in enumerate(chunk)]
            try:
                resp = self.sqs.change_message_visibility_batch(QueueUrl=self.mapping.queue_url, Entries=entries)
            except Exception as exc:  # the visibility timeout still brings them back, only later
                self.log.warning("%s: could not release a dead worker's batch: %s: %s", self.trigger,
                                 type(exc).__name__, exc)
                continue
            self._count("released", len(resp.get("Successful", [])))
            for failure in resp.get("Failed", []):
                self.log.warning("%s: release failed for entry %s: %s", self.trigger, failure.get("Id"),
                                 failure.get("Message") or failure.get("Code"))
        self.log.info("%s: the worker died; its %d records are visible again", self.trigger, len(messages))

    @staticmethod
    def _failed_ids(result, batch_ids: set) -> Optional[set]:
        """The messageIds a ReportBatchItemFailures response names; None if the response is malformed."""
        if result is None:
            return set()
        if not isinstance(result, dict):
            return None
        failures = result.get("batchItemFailures")
        if failures is None:
            return set()
        if not isinstance(failures, list):
            return None
        ids = set()
        for item in failures:
            ident = item.get("itemIdentifier") if isinstance(item, dict) else None
            if not isinstance(ident, str) or ident not in batch_ids:
                return None
            ids.add(ident)
        return ids

    def _delete(self, messages: list) -> None:
        for start in range(0, len(messages), MAX_RECEIVE):
            chunk = messages[start:start + MAX_RECEIVE]
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)]
            resp = self.sqs.delete_message_batch(QueueUrl=self.mapping.queue_url, Entries=entries)
            self._count("deleted", len(resp.get("Successful", [])))
            for failure in resp.get("Failed", []):
                self.log.warning("%s: delete failed for entry %s: %s", self.trigger, failure.get("Id"),
                                 failure.get("Message") or failure.get("Code"))

    # ---- event shape -----------------------------------------------------------------------------------

    def _record(self, message: dict) -> dict:
        """One Records[] entry of the AWS SQS event, from a ReceiveMessage message."""
        return events.sqs_record(message, self.mapping.queue_arn, self.region)

    def _count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.stats[key] += n


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000
