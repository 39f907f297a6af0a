"""The scheduled checker: claim unchecked versions, check them in one flake8 run, store, enqueue e-mails.

Claimed rows stay locked (FOR UPDATE SKIP LOCKED) until the results are committed, so an
overlapping tick takes other versions and no version is checked twice. Versions are claimed
round-robin across owners (queries.CLAIM_VERSIONS). flake8 runs in a child process with limits
(runner.check_isolated); when a run fails, its files are split in halves and checked again in the
same tick until the failing file is alone, so one file that cannot be checked fails only itself.
That file's failure is stored as an 'error' check and the version stays unchecked: the next tick
tries again, up to MAX_ATTEMPTS, after which it gets the final outcome 'failed' ("could not be
checked: <reason>"), shown and e-mailed once like any result, and is never claimed again.
"""
import json
import time
from datetime import datetime, timezone

from psycopg2.extras import execute_values

from common import db, queue, rows
from common.log import get_logger

from .. import queries, queue_messages
from ..files import store
from . import options, runner

log = get_logger("code_check.checker")
# An enqueue that failed right after the commit is retried by a later tick after this many seconds.
REQUEUE_AFTER = 60
# Failed checks of one version (each tick counts at most one) before its final "could not be checked".
MAX_ATTEMPTS = 3
# Isolation stops starting new flake8 runs after this many seconds (the function's timeout is 900 s);
# versions not reached stay unchecked, with no attempt counted, for the next tick.
BUDGET_SECONDS = 600


def tick(settings, batch_size=None):
    """One scheduled run; returns {"checked": n, "failed": n, "enqueued": n}."""
    requeued = _requeue_lost(settings)
    with db.pg_transaction() as cur:
        cur.execute(queries.CLAIM_VERSIONS, (batch_size or settings.batch_size,))
        claimed = rows.all(cur)
        if not claimed:
            return {"checked": 0, "failed": 0, "enqueued": requeued}
        started = datetime.now(timezone.utc)
        results, errors = _check(settings, claimed)
        check_ids, gave_up = _store(cur, claimed, started, results, errors)
    enqueued = enqueue(settings, check_ids)
    log.info("tick done", checked=len(results), failed=len(errors), gave_up=gave_up, enqueued=enqueued)
    return {"checked": len(results), "failed": len(errors), "gave_up": gave_up, "enqueued": enqueued + requeued}


def _check(settings, claimed):
    """({version id: [Violation]}, {version id: error text}); versions in neither were not reached."""
    sources, errors = {}, {}
    for version in claimed:
        try:
            sources[version["id"]] = (version["name"],
                                      store.read_version(settings.bucket, version["s3_key"], version["s3_version_id"]))
        except Exception as exc:  # noqa: BLE001 - one unreadable object fails its own check only
            log.exception("could not read a version's bytes", version_id=version["id"])
            errors[version["id"]] = f"could not read the stored file: {type(exc).__name__}"
    results = {}
    deadline = time.monotonic() + BUDGET_SECONDS
    groups = [sources] if sources else []
    while groups:
        group = groups.pop()
        if time.monotonic() > deadline:
            log.warning("out of time: versions left for the next tick", left=len(group))
            continue
        try:
            results.update(runner.check_isolated(group, jobs=settings.flake8_jobs))
        except Exception as exc:  # noqa: BLE001 - a failed run fails no file until it is alone in one
            reason = str(exc) if isinstance(exc, runner.CheckerError) else f"{type(exc).__name__}: {exc}"
            if len(group) == 1:
                key = next(iter(group))
                log.warning("a version could not be checked", version_id=key, reason=reason)
                errors[key] = f"checker error: {reason}"[:1000]
                continue
            log.warning("flake8 failed on a group; checking it in halves", files=len(group), reason=reason)
            keys = list(group)
            half = len(keys) // 2
            groups += [{k: group[k] for k in keys[half:]}, {k: group[k] for k in keys[:half]}]
    return results, errors


def _store(cur, claimed, started, results, errors):
    """Check rows (and violations) for every claimed version reached; successful ones marked checked, a
    version failing for the MAX_ATTEMPTS-th time given up. Returns (check ids to e-mail, how many given up)."""
    opts = json.dumps(options.FLAKE8_OPTIONS)
    notify = []
    gave_up = 0
    for version in claimed:
        vid = version["id"]
        if vid in errors:
            cur.execute(queries.COUNT_ATTEMPT, (vid,))
            if cur.fetchone()[0] < MAX_ATTEMPTS:
                cur.execute(queries.INSERT_CHECK, (vid, started, "error", 0, errors[vid], opts, "none"))
                continue
            reason = errors[vid].removeprefix("checker error: ")
            cur.execute(queries.INSERT_CHECK, (vid, started, "failed", 0, reason, opts, "pending"))
            notify.append(cur.fetchone()[0])
            cur.execute(queries.GIVE_UP, (vid,))
            gave_up += 1
            continue
        if vid not in results:
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
    done = [v["id"] for v in claimed if v["id"] in results]
    if done:
        cur.execute(queries.MARK_CHECKED, (done,))
    return notify, gave_up


def enqueue(settings, check_ids):
    """One report message per finished check (common.queue); marks the ones that went out. Returns how many did."""
    if not check_ids:
        return 0
    try:
        failed = queue.send_all(settings.queue_url,
                                [(check_id, queue_messages.Report(check_id).body(), 0) for check_id in check_ids])
    except Exception:  # noqa: BLE001 - the checks are stored; a later tick enqueues them again
        log.exception("could not queue e-mails", check_ids=check_ids)
        return 0
    if failed:
        log.warning("some e-mails not queued; a later tick queues them", check_ids=sorted(failed))
    sent = [check_id for check_id in check_ids if check_id not in failed]
    if sent:
        with db.pg_transaction() as cur:
            cur.execute(queries.MARK_ENQUEUED, (sent,))
    return len(sent)


def _requeue_lost(settings):
    with db.pg_transaction() as cur:
        cur.execute(queries.UNQUEUED_CHECKS, (REQUEUE_AFTER,))
        lost = [row[0] for row in cur.fetchall()]
    return enqueue(settings, lost) if lost else 0
