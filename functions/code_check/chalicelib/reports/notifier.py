"""Sending a check's e-mail report exactly once per check, whatever SQS redelivers.

The check row is claimed (committed) before SES is called and marked sent after. A redelivery of
a sent check does nothing; one that finds a fresh claim comes back later (the first attempt may
still be running). A claim older than the longest possible attempt means the sender died between
claiming and recording: the outcome is unknown, so it is resolved by sending once more and counted
in email_attempts (shown on the page), rather than dropped or resent while the first could still succeed.
A refused or failed SES call releases the claim and raises batch.Retry, backed off by the check's own
attempts; the last of settings.email_attempts failing makes the e-mail 'skipped' with GAVE_UP (final). Attempts
are SES calls (email_attempts), not SQS receives: a killed notifier spends none, and the queue's maxReceiveCount
is set well above them, so only a notifier failing again and again sends a message to the DLQ (issue 28).
No report goes to an address its owner has not confirmed, nor past the account's daily cap: such a
check's e-mail is 'skipped' with the reason (shown on the page), never sent later.
"""
from botocore.config import Config

from common import batch, db, queue, rows
from common.i18n import N_
from common.log import get_logger

from .. import queries, queue_messages
from ..checks import report
from . import email

log = get_logger("code_check.notifier")
SES_CONFIG = Config(connect_timeout=5, read_timeout=15, retries={"max_attempts": 1})
_ses = None
NOT_CONFIRMED = N_("the e-mail address is not confirmed yet")
BEING_DELETED = N_("the account is being deleted")
DAILY_LIMIT = N_("the account's daily limit of report e-mails is reached")
GAVE_UP = N_("the e-mail could not be sent after repeated attempts")


def ses():
    global _ses
    if _ses is None:
        import boto3
        _ses = boto3.session.Session().client("ses", config=SES_CONFIG)
    return _ses


def handle_record(settings, record):
    """The SQS record handler (common.batch): returns when done, raises to be delivered again."""
    message = queue.received(record, queue_messages.parse, queue_messages.Report)
    if message is not None:
        notify(settings, message.check_id)


def notify(settings, check_id):
    """Send the report of one check unless it was sent; returns "sent", "already sent", "skipped", "given up"
    or "gone"."""
    with db.pg_transaction() as cur:
        cur.execute(queries.CHECK_FOR_EMAIL, (settings.claim_seconds, check_id))
        check = rows.one(cur)
        if check is None:
            return "gone"
        if check["email_state"] in ("sent", "none", "skipped"):
            return "already sent"
        if check["email_state"] == "claimed" and not check["claim_stale"]:
            raise batch.Retry(f"check {check_id}: e-mail being sent by another attempt",
                              delay=settings.claim_seconds)
        skipped = _skip_reason(cur, settings, check)
        if skipped:
            cur.execute(queries.EMAIL_SKIPPED, (skipped, check_id))
            log.info("no e-mail", check_id=check_id, reason=skipped)
            return "skipped"
        if check["email_state"] == "claimed":
            log.warning("a send attempt was interrupted; sending again", check_id=check_id)
        cur.execute(queries.CLAIM_EMAIL, (check_id,))
        attempts = cur.fetchone()[0]
        version = {"id": check["version_id"], "number": check["number"]}
        found = report.version_report(cur, check["file_id"], version)
    link = f"{settings.public_url}/files/{check['file_id']}?version={check['number']}"
    subject, text, html = email.compose(check, found, link)
    try:
        answer = ses().send_email(
            Source=settings.sender, Destination={"ToAddresses": [check["email"]]},
            Message={"Subject": {"Data": subject, "Charset": "UTF-8"},
                     "Body": {"Text": {"Data": text, "Charset": "UTF-8"}, "Html": {"Data": html, "Charset": "UTF-8"}}})
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"[:500]
        if attempts >= settings.email_attempts:
            with db.pg_transaction() as cur:
                cur.execute(queries.EMAIL_GAVE_UP, (GAVE_UP, check_id))
            log.error("e-mail given up", check_id=check_id, attempts=attempts, reason=reason)
            return "given up"
        with db.pg_transaction() as cur:
            cur.execute(queries.EMAIL_FAILED, (reason, check_id))
        raise batch.Retry(f"check {check_id}: SES refused or failed: {type(exc).__name__}",
                          delay=batch.DEFAULT_BACKOFF(attempts)) from exc
    with db.pg_transaction() as cur:
        cur.execute(queries.EMAIL_SENT, (answer.get("MessageId"), check_id))
    return "sent"


def _skip_reason(cur, settings, check):
    """Why this check's report must not be sent (a msgid), or None."""
    if check["deleting"]:
        return BEING_DELETED
    if not check["confirmed"]:
        return NOT_CONFIRMED
    cur.execute(queries.LOCK_USER, (check["user_id"],))
    cur.execute(queries.EMAILS_TODAY, (check["user_id"],))
    if cur.fetchone()[0] >= settings.daily_emails:
        return DAILY_LIMIT
    return None
