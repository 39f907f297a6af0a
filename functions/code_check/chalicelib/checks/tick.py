"""The scheduled checker: claim unchecked versions, check them in one flake8 run, store, enqueue e-mails.

Claimed rows stay locked (FOR UPDATE SKIP LOCKED) until the results are committed, so an
overlapping tick takes other versions and no version is checked twice. A checker failure is
stored as a failed check and the version stays unchecked: the next tick tries again.
"""
import json
import logging
from datetime import datetime, timezone

from psycopg2.extras import execute_values

from common import aws, db

from .. import queries
from ..files import store
from . import options, runner

log = logging.getLogger("code_check.checker")
# An enqueue that failed right after the commit is retried by a later tick after this many seconds.
REQUEUE_AFTER = 60


def tick(settings, batch_size=None):
    """One scheduled run; returns {"checked": n, "failed": n, "enqueued": n}."""
    requeued = _requeue_lost(settings)
    with db.pg_transaction() as cur:
        cur.execute(queries.CLAIM_VERSIONS, (batch_size or settings.batch_size,))
        claimed = [dict(zip(("id", "file_id", "number", "s3_key", "s3_version_id", "name"), row))
                   for row in cur.fetchall()]
        if not claimed:
            return {"checked": 0, "failed": 0, "enqueued": requeued}
        started = datetime.now(timezone.utc)
        results, errors = _check(settings, claimed)
        check_ids = _store(cur, claimed, started, results, errors)
    enqueued = enqueue(settings, check_ids)
    log.info("checked %s versions, %s failed, %s e-mails queued", len(results), len(errors), enqueued)
    return {"checked": len(results), "failed": len(errors), "enqueued": enqueued + requeued}


def _check(settings, claimed):
    """({version id: [Violation]}, {version id: error text})."""
    sources, errors = {}, {}
    for version in claimed:
        try:
            sources[version["id"]] = (version["name"],
                                      store.read_version(settings.bucket, version["s3_key"], version["s3_version_id"]))
        except Exception as exc:  # noqa: BLE001 - one unreadable object fails its own check only
            log.exception("version %s: could not read its bytes", version["id"])
            errors[version["id"]] = f"could not read the stored file: {type(exc).__name__}"
    try:
        results = runner.check_sources(sources, jobs=settings.flake8_jobs) if sources else {}
    except Exception as exc:  # noqa: BLE001 - a checker crash is a failed check, retried next tick
        log.exception("flake8 failed on a batch of %s files", len(sources))
        results = {}
        errors.update({key: f"checker error: {type(exc).__name__}: {exc}"[:1000] for key in sources})
    return results, errors


def _store(cur, claimed, started, results, errors):
    """Check rows (and violations) for every claimed version; successful ones marked checked."""
    opts = json.dumps(options.FLAKE8_OPTIONS)
    notify = []
    for version in claimed:
        vid = version["id"]
        if vid in errors:
            cur.execute(queries.INSERT_CHECK, (vid, started, "error", 0, errors[vid], opts, "none"))
            continue
        found = results[vid]
        cur.execute(queries.INSERT_CHECK, (vid, started, "problems" if found else "ok", len(found), None, opts,
                                           "pending"))
        check_id = cur.fetchone()[0]
        if found:
            execute_values(cur, queries.INSERT_VIOLATIONS,
                           [(check_id, v.code, v.line, v.col, v.message, v.source_line) for v in found],
                           page_size=1000)
        notify.append(check_id)
    done = [v["id"] for v in claimed if v["id"] not in errors]
    if done:
        cur.execute(queries.MARK_CHECKED, (done,))
    return notify


def enqueue(settings, check_ids):
    """One SQS message per finished check; marks the ones that went out. Returns how many did."""
    sent = []
    sqs = aws.client("sqs")
    for start in range(0, len(check_ids), 10):
        chunk = check_ids[start:start + 10]
        try:
            answer = sqs.send_message_batch(QueueUrl=settings.queue_url, Entries=[
                {"Id": str(check_id), "MessageBody": json.dumps({"check_id": check_id})} for check_id in chunk])
        except Exception:  # noqa: BLE001 - the checks are stored; a later tick enqueues them again
            log.exception("could not queue e-mails for checks %s", chunk)
            continue
        sent += [int(entry["Id"]) for entry in answer.get("Successful", [])]
    if sent:
        with db.pg_transaction() as cur:
            cur.execute(queries.MARK_ENQUEUED, (sent,))
    return len(sent)


def _requeue_lost(settings):
    with db.pg_transaction() as cur:
        cur.execute(queries.UNQUEUED_CHECKS, (REQUEUE_AFTER,))
        lost = [row[0] for row in cur.fetchall()]
    return enqueue(settings, lost) if lost else 0
