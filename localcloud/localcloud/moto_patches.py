"""Work-arounds for moto behaviour that would make the local cloud itself the bottleneck.

moto 5.2.5 keeps a queue's messages in a list and walks all of it on almost every call: SendMessage
recomputes every queue attribute (three walks), ReceiveMessage walks the list and re-reads the
attributes once per message it returns (the retention check), DeleteMessage and
ChangeMessageVisibility search the list by receipt handle and rebuild it. With 10,000 messages
waiting a receive+delete cycle costs hundreds of walks, so the local cloud drained at ~1.6 msg/s.

The standard-queue paths below keep moto's data model (Message objects, receive counts, receipt
handles, DLQ moves, pending set) but index it: messages in an insertion-ordered dict, receipt
handles in a dict, and a heap of the time each message becomes receivable (max of its delay and
visibility deadlines). FIFO queues keep moto's own code: their group ordering is what it is for.
"""
import functools
import heapq
import itertools
import threading
import time

_applied = set()
# (host, port) of the moto servers this process runs (moto_server.MotoServer): their queues and schedules are this
# process's moto backends, which the local cloud may watch directly instead of asking over HTTP every second.
LOCAL_SERVERS = set()


def apply():
    """Every patch below (idempotent)."""
    list_moto_modules_once()
    name_response_methods_once()
    make_sqs_sends_linear()
    make_sqs_receives_scale()
    make_sqs_message_move_tasks()
    count_schedule_changes()


def list_moto_modules_once():
    """moto's server asks, on every request, whether the request's host names one of moto's own service
    packages, and lists moto's folder (about 170 entries, a stat each) to answer: a good part of a small
    request's CPU. The packages installed do not change while the process runs: list them once."""
    if "modules" in _applied:
        return
    from moto import backends

    modules = frozenset(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules
    _applied.add("modules")


def name_response_methods_once():
    """moto's dispatcher lists its response class's methods (inspect.getmembers, a few hundred attributes) on every
    request to see whether the action is one of them: about a sixth of the CPU of a small request. A class's methods
    do not change while the server runs (moto_patches.apply() runs before any request): list each class once."""
    if "methods" in _applied:
        return
    from moto.core import responses

    responses.method_names_from_class = functools.cache(
        lambda clazz, listed=responses.method_names_from_class: frozenset(listed(clazz)))
    _applied.add("methods")


def make_sqs_sends_linear():
    """SendMessage only needs ContentBasedDeduplication from the queue attributes; give it just that
    instead of the full set (whose counts walk all messages), so N sends cost O(N), not O(N^2)."""
    if "sends" in _applied:
        return
    from moto.sqs import models

    state = threading.local()
    full_attributes = models.Queue.attributes.fget

    def attributes(queue):
        if getattr(state, "sending", False):
            return ({"ContentBasedDeduplication": str(queue.content_based_deduplication).lower()}
                    if queue.fifo_queue else {})
        return full_attributes(queue)

    def sending(method):
        @functools.wraps(method)
        def wrapper(*args, **kwargs):
            outer = getattr(state, "sending", False)
            state.sending = True
            try:
                return method(*args, **kwargs)
            finally:
                state.sending = outer
        return wrapper

    models.Queue.attributes = property(attributes)
    models.SQSBackend.send_message = sending(models.SQSBackend.send_message)
    _applied.add("sends")


def _ready_at(message):
    """Milliseconds since the epoch at which the message may be received (0: already)."""
    return max(message.visible_at, message.delayed_until)


class MessageStore:
    """A queue's messages: insertion-ordered, O(1) add/remove/lookup by receipt handle, and a heap of
    ready times. Iterates like moto's list, so moto code that only reads `_messages` still works."""

    def __init__(self, messages=()):
        self._live = {}             # message id -> Message, in insertion order
        self._handles = {}          # every receipt handle a live message has had -> Message
        self._heap = []             # (ready_at ms, seq, message id); stale entries skipped lazily
        self._seq = itertools.count()
        for message in messages:
            message._ready_key = None       # filed in this store's heap, whatever an older store had
            self.append(message)

    def __iter__(self):
        return iter(list(self._live.values()))

    def __len__(self):
        return len(self._live)

    def __bool__(self):
        return bool(self._live)

    def __contains__(self, message):
        return self._live.get(message.id) is message

    def append(self, message):
        self._live[message.id] = message
        for handle in message.all_receipt_handles:
            if handle:
                self._handles[handle] = message
        self.schedule(message)

    def remove(self, message):
        if self._live.get(message.id) is not message:
            raise ValueError("message not in queue")
        del self._live[message.id]
        for handle in message.all_receipt_handles:
            self._handles.pop(handle, None)

    def by_handle(self, handle):
        return self._handles.get(handle)

    def received(self, message):
        """After mark_received: index the new receipt handle and the new visibility deadline."""
        self._handles[message.receipt_handle] = message
        self.schedule(message)

    def schedule(self, message):
        """(Re)file the message under its current ready time; older heap entries become stale."""
        key = _ready_at(message)
        if getattr(message, "_ready_key", None) != key:
            message._ready_key = key
            heapq.heappush(self._heap, (key, next(self._seq), message.id))

    def next_ready_at(self):
        """ms epoch of the earliest heap entry, or None."""
        return self._heap[0][0] if self._heap else None

    def pop_ready(self, now_ms):
        """The next message whose ready time has passed (heap order), or None. A message whose
        deadline moved without schedule() being called is re-filed under its real one."""
        later = []
        try:
            while self._heap and self._heap[0][0] <= now_ms:
                key, _seq, message_id = heapq.heappop(self._heap)
                message = self._live.get(message_id)
                if message is None or getattr(message, "_ready_key", None) != key:
                    continue
                if message.visible and not message.delayed:
                    message._ready_key = None     # receiving re-files it under its visibility deadline
                    return message
                if _ready_at(message) > key:
                    message._ready_key = None
                    self.schedule(message)
                else:
                    later.append((key, _seq, message_id))   # deadline is exactly now: next millisecond
            return None
        finally:
            for entry in later:
                heapq.heappush(self._heap, entry)


def make_sqs_receives_scale():
    """ReceiveMessage, DeleteMessage, ChangeMessageVisibility and PurgeQueue in O(log N) per message
    for standard queues, with moto's semantics: DelaySeconds, visibility timeout, receive counts,
    RedrivePolicy maxReceiveCount -> DLQ on the receive that would exceed it, long polling."""
    if "receives" in _applied:
        return
    from moto.sqs import models
    from moto.sqs.exceptions import ReceiptHandleIsInvalid

    Queue, Backend = models.Queue, models.SQSBackend
    original = {name: getattr(Backend, name) for name in
                ("receive_message", "change_message_visibility", "purge_queue")}
    original_delete = Queue.delete_message

    def get_store(queue):
        return queue.__dict__["_store"]

    def set_store(queue, messages):
        queue.__dict__["_store"] = messages if isinstance(messages, MessageStore) else MessageStore(messages)

    Queue._messages = property(get_store, set_store)

    def messages(queue):
        return [m for m in queue._messages if m.visible and not m.delayed]
    Queue.messages = property(messages)

    def delete_message(queue, receipt_handle):
        if queue.fifo_queue:
            return original_delete(queue, receipt_handle)
        with queue._messages_lock:
            if receipt_handle in queue.deleted_messages:
                return
            message = queue._messages.by_handle(receipt_handle)
            if message is None:
                raise ReceiptHandleIsInvalid()
            queue._messages.remove(message)
            queue.pending_messages.discard(message)
            queue.deleted_messages.update(message.all_receipt_handles)
    Queue.delete_message = delete_message

    def receive_message(self, queue_name, count, wait_seconds_timeout, visibility_timeout,
                        message_attribute_names=None):
        queue = self.get_queue(queue_name)
        if queue.fifo_queue:
            return original["receive_message"](self, queue_name, count, wait_seconds_timeout,
                                               visibility_timeout, message_attribute_names)
        names = message_attribute_names or []
        polling_end = time.time() + (wait_seconds_timeout or 0)
        with queue._messages_lock:
            while True:
                result = _take(queue, count, visibility_timeout, names)
                remaining = polling_end - time.time()
                if result or remaining <= 0:
                    return result
                # add_message notifies this condition; a delayed or in-flight message becoming ready
                # does not, so wake up no later than the next ready time.
                nxt = queue._messages.next_ready_at()
                if nxt is not None:
                    remaining = min(remaining, max(0.001, nxt / 1000 - time.time()))
                queue._messages_lock.wait(min(remaining, 1.0))
    Backend.receive_message = receive_message

    def _take(queue, count, visibility_timeout, names):
        store, result, taken = queue._messages, [], []
        now_ms = models.unix_time_millis()
        retention_ms = int(queue.message_retention_period) * 1000
        dlq_after = (queue.redrive_policy or {}).get("maxReceiveCount") if queue.dead_letter_queue else None
        while len(result) < count:
            message = store.pop_ready(now_ms)
            if message is None:
                break
            if message.sent_timestamp + retention_ms <= now_ms:
                store.remove(message)       # past MessageRetentionPeriod: SQS deletes it
                continue
            if dlq_after is not None and message.approximate_receive_count >= int(dlq_after):
                store.remove(message)
                queue.pending_messages.discard(message)
                queue.dead_letter_queue.add_message(message)
                continue
            queue.pending_messages.add(message)
            message.mark_received(visibility_timeout=visibility_timeout)
            taken.append(message)
            copy = _copy(message)
            models._filter_message_attributes(copy, names)
            result.append(copy)
        for message in taken:   # re-filed only now, so VisibilityTimeout=0 cannot return one twice
            store.received(message)
        return result

    def _copy(message):
        # moto deep-copies every returned message (so attribute filtering leaves the stored one
        # intact); a shallow copy with its own attribute dict does the same without copying history,
        # and object.__new__ keeps it out of moto's list of every model instance ever made.
        copy = object.__new__(models.Message)
        copy.__dict__.update(message.__dict__)
        copy.message_attributes = dict(message.message_attributes)
        copy._old_receipt_handles = list(message._old_receipt_handles)
        return copy

    def change_message_visibility(self, queue_name, receipt_handle, visibility_timeout):
        queue = self.get_queue(queue_name)
        if queue.fifo_queue:
            return original["change_message_visibility"](self, queue_name, receipt_handle, visibility_timeout)
        with queue._messages_lock:
            message = queue._messages.by_handle(receipt_handle)
            if message is None:
                raise ReceiptHandleIsInvalid
            deadline = models.unix_time_millis() + int(visibility_timeout) * 1000
            if deadline - message.sent_timestamp > 43200 * 1000:
                raise models.InvalidParameterValue(
                    f"Value {visibility_timeout} for parameter VisibilityTimeout is invalid. Reason: Total "
                    "VisibilityTimeout for the message is beyond the limit [43200 seconds]")
            message.change_visibility(visibility_timeout)
            if message.visible:
                queue.pending_messages.discard(message)
            queue._messages.schedule(message)
            queue._messages_lock.notify_all()
    Backend.change_message_visibility = change_message_visibility

    def purge_queue(self, queue_name):
        queue = self.get_queue(queue_name)
        with queue._messages_lock:
            original["purge_queue"](self, queue_name)   # assigns [] -> a fresh store
    Backend.purge_queue = purge_queue
    _applied.add("receives")


def make_sqs_message_move_tasks():
    """StartMessageMoveTask (moto 5.2.5 answers it with an error): a DLQ's messages moved at once to the queue the
    call names, or without one to the DLQ's only source queue, with their body, attributes, group and dedup ids
    (a redrive of a FIFO DLQ keeps each group's order). ListMessageMoveTasks lists the tasks done."""
    if "move" in _applied:
        return
    import base64
    import json
    import uuid
    from moto.core.responses import ActionResult
    from moto.sqs.exceptions import SQSException
    from moto.sqs.responses import SQSResponse

    tasks = []

    def move(backend, source, destination):
        moved = 0
        while True:
            messages = backend.receive_message(source, 10, 0, 30, ["All"])
            if not messages:
                return moved
            for m in messages:
                backend.send_message(destination, m.body, message_attributes=m.message_attributes,
                                     deduplication_id=m.deduplication_id, group_id=m.group_id)
                backend.delete_message(source, m.receipt_handle)
                moved += 1

    def start_message_move_task(self):
        backend = self.sqs_backend
        source_arn, destination_arn = self._get_param("SourceArn"), self._get_param("DestinationArn")
        source = source_arn.rsplit(":", 1)[-1]
        if destination_arn:
            destination = destination_arn.rsplit(":", 1)[-1]
        else:
            origins = backend.list_dead_letter_source_queues(source)
            if len(origins) != 1:
                raise SQSException("InvalidParameterValue", "DestinationArn is needed: the source queue is the "
                                   f"dead-letter queue of {len(origins)} queues here")
            destination = origins[0].name
        backend.get_queue(destination)          # QueueDoesNotExist before anything moves
        moved = move(backend, source, destination)
        handle = base64.b64encode(json.dumps({"taskId": str(uuid.uuid4()), "sourceArn": source_arn}).encode()).decode()
        tasks.append({"TaskHandle": handle, "Status": "COMPLETED", "SourceArn": source_arn,
                      "DestinationArn": destination_arn or backend.get_queue(destination).queue_arn,
                      "ApproximateNumberOfMessagesMoved": moved, "ApproximateNumberOfMessagesToMove": moved,
                      "StartedTimestamp": int(time.time() * 1000)})
        return ActionResult({"TaskHandle": handle})

    def list_message_move_tasks(self):
        source_arn = self._get_param("SourceArn")
        return ActionResult({"Results": [t for t in reversed(tasks) if t["SourceArn"] == source_arn][:10]})

    SQSResponse.start_message_move_task = start_message_move_task
    SQSResponse.list_message_move_tasks = list_message_move_tasks
    _applied.add("move")


def served_here(url):
    """True if `url` (an endpoint or a queue URL) points at a moto server of this process, patched by apply()."""
    from urllib.parse import urlsplit
    parts = urlsplit(url or "")
    return "receives" in _applied and (parts.hostname, parts.port) in {
        (host, port) for served, port in LOCAL_SERVERS for host in (served, "127.0.0.1", "localhost")}


def wait_until_receivable(queue_url, region, timeout, stop):
    """Wait (at most `timeout` s, or until the Event `stop` is set) until the standard queue behind `queue_url`,
    kept by this process's moto, has a message a ReceiveMessage would return now. True: one is there (or may be:
    an unknown or FIFO queue, which only a real receive can tell about); False: none came in time.

    The local cloud's SQS pollers call it before each ReceiveMessage: an idle queue then costs no request at all,
    where a one-second long poll per poller thread cost each stack over a dozen HTTP requests a second."""
    from moto.sqs.models import sqs_backends
    path = queue_url.split("://", 1)[-1].split("/")
    if len(path) < 3:
        return True
    try:
        queue = sqs_backends[path[1]][region].queues.get(path[2])
    except KeyError:
        return True
    if queue is None or queue.fifo_queue or not isinstance(queue.__dict__.get("_store"), MessageStore):
        return True
    deadline = time.time() + timeout
    with queue._messages_lock:       # add_message and change_message_visibility notify it
        while True:
            now = time.time()
            ready_at = queue._messages.next_ready_at()    # may be a stale entry: then one receive finds nothing
            if ready_at is not None and ready_at <= now * 1000:
                return True
            if stop.is_set() or now >= deadline:
                return False
            wake = deadline if ready_at is None else min(deadline, ready_at / 1000)
            # in short slices: setting `stop` does not notify this condition
            queue._messages_lock.wait(min(max(wake - now, 0.001), 0.25))


_schedule_changes = [0]     # how many changes to EventBridge Scheduler schedules this process's moto has made
_counting = threading.Lock()


def schedule_changes():
    """A number that moves with every change to Scheduler schedules made through this process's moto."""
    return _schedule_changes[0]


def count_schedule_changes():
    """Count the calls that change Scheduler schedules (create, update, delete, a group's deletion), so a local
    cloud on this process's moto re-reads its schedules only after one, not every second."""
    if "schedules" in _applied:
        return
    from moto.scheduler.models import EventBridgeSchedulerBackend as Backend

    def counted(method):
        @functools.wraps(method)
        def wrapper(*args, **kwargs):
            try:
                return method(*args, **kwargs)
            finally:
                with _counting:
                    _schedule_changes[0] += 1
        return wrapper

    for name in ("create_schedule", "update_schedule", "delete_schedule", "create_schedule_group",
                 "delete_schedule_group", "reset"):
        if hasattr(Backend, name):
            setattr(Backend, name, counted(getattr(Backend, name)))
    _applied.add("schedules")
