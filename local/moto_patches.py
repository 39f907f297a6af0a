"""Work-arounds for moto behaviour that would make the local cloud itself the bottleneck."""
import functools
import threading

_applied = False


def make_sqs_sends_linear():
    """moto 5.2.5 recomputes every queue attribute on each SendMessage, including counts that walk all
    messages in the queue, so N sends cost O(N^2) (10,000 delayed messages took minutes). SendMessage
    only needs ContentBasedDeduplication from those attributes; give it just that."""
    global _applied
    if _applied:
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
    _applied = True
