"""The chunk queue's dead-letter queue, swept by the sync schedule: nothing stays there to alarm an operator
once its work is done, and a job is never left waiting on a message that went there.

A chunk message reaches the DLQ only after the queue's maxReceiveCount deliveries (20) without finishing: failures
the code sees end the job themselves after MAIL_IMPORT_MAX_ATTEMPTS (jobs.py), so what is left is a worker that
died again and again on the same chunk. For each such message the sweep:
- deletes it when its job has finished or moved past that chunk (the work was done by another path: a copy of
  the message, the stranded-job sweep);
- otherwise counts one failure of the data for the job and queues the chunk again, or, once the job has failed
  MAX_ATTEMPTS times, ends it with an error the user sees; and deletes it.
A message it cannot read stays for the operator.
"""
from common import aws
from common.log import get_logger

from .. import queue_messages, settings
from . import job_records, jobs
from .failures import UNEXPECTED, ImportFailure

log = get_logger(__name__)
SWEEP_VISIBILITY = 30      # seconds a message being swept is hidden (a failed sweep leaves it for the next run)


def sweep(max_messages=100):
    """One pass over the DLQ: {"cleared": n, "requeued": n, "failed": n} (failed: jobs ended in error)."""
    counts = {"cleared": 0, "requeued": 0, "failed": 0}
    url = settings.load().dead_letter_queue_url
    if not url:
        return counts
    sqs = aws.client("sqs")
    seen = 0
    while seen < max_messages:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                       VisibilityTimeout=SWEEP_VISIBILITY).get("Messages", [])
        if not messages:
            break
        seen += len(messages)
        for message in messages:
            outcome = settle(message["Body"])
            if outcome is None:
                # Unreadable: back in view at once, for the operator.
                sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
                continue
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            counts[outcome] += 1
    if any(counts.values()):
        log.info("dead-letter sweep", **counts)
    return counts


def settle(body):
    """What to do with one dead chunk message ("cleared", "requeued", "failed"; None: keep it); does it, except
    the delete."""
    try:
        message = queue_messages.Chunk.parse(body)
    except queue_messages.BadMessage as exc:
        log.warning("keeping an unreadable dead-letter message for the operator", reason=str(exc))
        return None
    job_id, seq = message.job_id, message.seq
    failures = job_records.dead_letter_failure(job_id, seq)
    if failures is None:
        return "cleared"
    if failures >= settings.load().max_attempts:
        log.error("a chunk died in its worker too many times; the job fails", job_id=job_id, seq=seq,
                  failures=failures)
        job_records.finish(job_id, "error", ImportFailure(UNEXPECTED))
        return "failed"
    jobs.enqueue(job_id, seq)
    return "requeued"
