"""Every SQL statement of the broadcast product (MySQL/MariaDB, pymysql %s parameters only)."""

# Order of statuses: a change only ever moves right (a late 'delivered' never overwrites 'read').
# Webhook statuses are applied with this order; sender transitions name their source status.
# 'cancelled': the operator cancelled the broadcast before this recipient was sent (no message id: final).
STATUS_ORDER = ("queued", "sending", "not_sent", "cancelled", "unknown", "sent", "delivered", "failed", "read")
_RANK = "FIELD(status, " + ", ".join(f"'{s}'" for s in STATUS_ORDER) + ")"
_NEW_RANK = "FIELD(%(status)s, " + ", ".join(f"'{s}'" for s in STATUS_ORDER) + ")"

# ---- broadcasts --------------------------------------------------------------------------------

INSERT_BROADCAST = """
INSERT INTO broadcasts (text, recipient_count, duplicates_dropped, created_at, pacing, pace_nonce, parent_id, list_id)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
"""

# pymysql's executemany folds this into multi-row INSERTs only while VALUES holds nothing but
# placeholders (a literal there means one round trip per row), so status comes from its DEFAULT.
INSERT_RECIPIENT = """
INSERT INTO broadcast_recipients (broadcast_id, line_no, raw, phone, delay_seconds, queued_at, updated_at)
VALUES (%s, %s, %s, %s, %s, %s, %s)
"""

RECIPIENT_ID_RANGE = "SELECT MIN(id) AS low, MAX(id) AS high FROM broadcast_recipients WHERE broadcast_id = %s"

_BROADCAST_COLUMNS = ("id, text, recipient_count, duplicates_dropped, created_at, pacing, cancelled_at, parent_id, "
                      "list_id")

LIST_BROADCASTS = f"""
SELECT {_BROADCAST_COLUMNS}
FROM broadcasts ORDER BY id DESC LIMIT %s OFFSET %s
"""

# A contact list's history: the broadcasts sent to it, newest first.
LIST_BROADCASTS_OF_LIST = f"""
SELECT {_BROADCAST_COLUMNS}
FROM broadcasts WHERE list_id = %s ORDER BY id DESC LIMIT %s
"""

COUNT_BROADCASTS = "SELECT COUNT(*) AS n FROM broadcasts"

STATUS_COUNTS = """
SELECT broadcast_id, status, COUNT(*) AS n FROM broadcast_recipients
WHERE broadcast_id IN %s GROUP BY broadcast_id, status
"""

GET_BROADCAST = f"SELECT {_BROADCAST_COLUMNS} FROM broadcasts WHERE id = %s"

LOCK_BROADCAST = f"SELECT {_BROADCAST_COLUMNS}, pace_nonce FROM broadcasts WHERE id = %s FOR UPDATE"

# The broadcast that sends this one again (at most one: broadcasts_parent is unique).
CHILD_OF = "SELECT id FROM broadcasts WHERE parent_id = %s"

# When the last message of the broadcast is due (seconds after queued_at): its planned finishing time.
LAST_DUE = "SELECT MAX(delay_seconds) AS last FROM broadcast_recipients WHERE broadcast_id = %s"

# ---- cancel and send again ----------------------------------------------------------------------

CANCEL_BROADCAST = """
UPDATE broadcasts SET cancelled_at = COALESCE(cancelled_at, %s), pace_nonce = NULL WHERE id = %s
"""

# Recipients not yet sent: 'queued' ones become 'cancelled' at once (their queue messages then find nothing to
# claim); a 'sending' one is in its batch, whose sender re-checks CANCELLED_AMONG before each ChatApp call.
CANCEL_QUEUED = """
UPDATE broadcast_recipients
SET status = 'cancelled', error_code = %s, error_message = %s, not_sent_at = %s, updated_at = %s
WHERE broadcast_id = %s AND status = 'queued'
"""

CANCELLED_AMONG = "SELECT id FROM broadcasts WHERE id IN %s AND cancelled_at IS NOT NULL"

# What "send again" takes: the numbers that ended not sent or failed, in their order.
RESEND_NUMBERS = """
SELECT line_no, raw, phone FROM broadcast_recipients
WHERE broadcast_id = %s AND status IN ('not_sent', 'failed') ORDER BY id
"""

# Pending: work still in flight (queued/sending), or sent recently and awaiting a delivery report.
PENDING_COUNT = """
SELECT COUNT(*) AS n FROM broadcast_recipients
WHERE broadcast_id = %s AND (status IN ('queued', 'sending') OR (status = 'sent' AND sent_at > %s))
"""

RECIPIENTS_PAGE = """
SELECT id, line_no, raw, phone, delay_seconds, status, attempts, message_id, error_code, error_message,
       queued_at, enqueued_at, sending_at, sent_at, not_sent_at, delivered_at, read_at, failed_at
FROM broadcast_recipients WHERE broadcast_id = %s ORDER BY id LIMIT %s OFFSET %s
"""

RECIPIENTS_PAGE_BY_STATUS = """
SELECT id, line_no, raw, phone, delay_seconds, status, attempts, message_id, error_code, error_message,
       queued_at, enqueued_at, sending_at, sent_at, not_sent_at, delivered_at, read_at, failed_at
FROM broadcast_recipients WHERE broadcast_id = %s AND status = %s ORDER BY id LIMIT %s OFFSET %s
"""

# ---- queueing ----------------------------------------------------------------------------------

# ---- pacing (one at a time) ---------------------------------------------------------------------

# A serial broadcast's recipients not queued yet whose message is due within the horizon (delay_seconds: seconds
# after queued_at, the broadcast's creation).
PACE_DUE = """
SELECT id, delay_seconds, queued_at FROM broadcast_recipients
WHERE broadcast_id = %s AND status = 'queued' AND enqueued_at IS NULL AND delay_seconds <= %s ORDER BY id
"""

PACE_NEXT = """
SELECT MIN(delay_seconds) AS next FROM broadcast_recipients
WHERE broadcast_id = %s AND status = 'queued' AND enqueued_at IS NULL
"""

# A late chain (its tick lost and restarted by the maintenance run): the rest keep their gaps, starting now.
PACE_SHIFT = """
UPDATE broadcast_recipients SET delay_seconds = delay_seconds + %s
WHERE broadcast_id = %s AND status = 'queued' AND enqueued_at IS NULL
"""

# The next tick becomes the live one only if ours still is (a duplicate delivery of a tick loses here).
PACE_HAND_OVER = "UPDATE broadcasts SET pace_nonce = %s WHERE id = %s AND pace_nonce = %s AND cancelled_at IS NULL"

PACE_RESTART = "UPDATE broadcasts SET pace_nonce = %s WHERE id = %s AND cancelled_at IS NULL"

# ---- contact lists ------------------------------------------------------------------------------

INSERT_LIST = "INSERT INTO contact_lists (name, created_at) VALUES (%s, %s)"

LIST_ID_BY_NAME = "SELECT id FROM contact_lists WHERE name = %s"

CONTACT_LISTS = """
SELECT l.id, l.name, l.created_at, COUNT(n.id) AS size FROM contact_lists l
LEFT JOIN contact_list_numbers n ON n.list_id = l.id GROUP BY l.id, l.name, l.created_at ORDER BY l.name
"""

GET_LIST = "SELECT id, name, created_at FROM contact_lists WHERE id = %s"

LOCK_LIST = "SELECT id FROM contact_lists WHERE id = %s FOR UPDATE"

LIST_SIZE = "SELECT COUNT(*) AS n FROM contact_list_numbers WHERE list_id = %s"

# A number already in the list is kept as it was (INSERT IGNORE on the unique (list_id, phone)).
ADD_NUMBER = "INSERT IGNORE INTO contact_list_numbers (list_id, phone, raw, added_at) VALUES (%s, %s, %s, %s)"

LIST_NUMBERS_PAGE = """
SELECT phone, raw, added_at FROM contact_list_numbers WHERE list_id = %s ORDER BY id LIMIT %s OFFSET %s
"""

LIST_NUMBERS = "SELECT phone, raw FROM contact_list_numbers WHERE list_id = %s ORDER BY id"

# ---- queueing ----------------------------------------------------------------------------------

# Fan-out jobs name a broadcast and an id range (ids of concurrent broadcasts may interleave).
RECIPIENTS_TO_ENQUEUE = """
SELECT id, delay_seconds, queued_at FROM broadcast_recipients
WHERE broadcast_id = %s AND id BETWEEN %s AND %s AND status = 'queued' AND enqueued_at IS NULL
"""

MARK_ENQUEUED = "UPDATE broadcast_recipients SET enqueued_at = %s WHERE id IN %s AND enqueued_at IS NULL"

MARK_RANGE_NOT_QUEUED = """
UPDATE broadcast_recipients
SET status = 'not_sent', error_code = %s, error_message = %s, not_sent_at = %s, updated_at = %s
WHERE broadcast_id = %s AND id BETWEEN %s AND %s AND status = 'queued' AND enqueued_at IS NULL
"""

# Recipients whose fan-out job (or, one at a time, pacing tick) was lost, e.g. the web function died between commit
# and enqueue: due (queued_at + delay_seconds) before the cutoff and still without a message.
STRANDED_RANGES = """
SELECT r.broadcast_id, b.pacing, MIN(r.id) AS low, MAX(r.id) AS high, COUNT(*) AS n
FROM broadcast_recipients r JOIN broadcasts b ON b.id = r.broadcast_id
WHERE r.status = 'queued' AND r.enqueued_at IS NULL AND r.queued_at + INTERVAL r.delay_seconds SECOND < %s
GROUP BY r.broadcast_id, b.pacing
"""

# ---- the expiry sweep (expiry.py) ----------------------------------------------------------------

# Queued recipients whose message has left the send queue (sent before the cutoff, older than the queue's retention:
# deleted by SQS, or moved to the DLQ before): nothing was sent, and the sender will not receive it again.
# The recipients_stranded index (status, enqueued_at, ...) gives the range.
MARK_EXPIRED = """
UPDATE broadcast_recipients
SET status = 'not_sent', error_code = %s, error_message = %s, not_sent_at = %s, updated_at = %s
WHERE status = 'queued' AND enqueued_at < %s
"""

# Queued recipients that never got a message of their own, for as long as a message would have lived after they
# were due: their fan-out job kept failing (requeue_stranded tried again every sweep). Given up, so the broadcast
# ends. (Due = queued_at + delay_seconds: one at a time, the last ones are due hours after the post.)
MARK_NEVER_QUEUED = """
UPDATE broadcast_recipients
SET status = 'not_sent', error_code = %s, error_message = %s, not_sent_at = %s, updated_at = %s
WHERE status = 'queued' AND enqueued_at IS NULL AND queued_at + INTERVAL delay_seconds SECOND < %s
"""

# Rows left 'sending' by an attempt that died (no live attempt is older than sender.STALE_AFTER) whose message
# will not come back to apply the stale rule (it went to the DLQ): made 'unknown' as the redelivery would.
# Few rows are ever 'sending': the status prefix of recipients_stranded finds them.
MARK_STALE_SENDING = """
UPDATE broadcast_recipients
SET status = 'unknown', error_code = %s, error_message = %s, not_sent_at = %s, updated_at = %s
WHERE status = 'sending' AND sending_at < %s
"""

# ---- sending -----------------------------------------------------------------------------------

# The claim of an SQS batch, in one transaction: the rows locked (in id order: concurrent batches never
# deadlock; a second delivery waits, then sees 'sending'), the queued ones claimed, their texts read.
LOCK_RECIPIENTS = """
SELECT id, broadcast_id, phone, status, sending_at, attempts FROM broadcast_recipients WHERE id IN %s ORDER BY id
FOR UPDATE
"""

# Only ids LOCK_RECIPIENTS found 'queued' and still holds locked: by primary key alone (a status condition lets
# the optimizer pick the status index when few rows are queued, locking index ranges other batches need).
CLAIM_MANY = """
UPDATE broadcast_recipients SET status = 'sending', sending_at = %s, attempts = attempts + 1, updated_at = %s
WHERE id IN %s
"""

BROADCAST_TEXTS = "SELECT id, text FROM broadcasts WHERE id IN %s"

MARK_SENT = """
UPDATE broadcast_recipients
SET status = 'sent', message_id = %s, error_code = NULL, error_message = NULL, sent_at = %s, updated_at = %s
WHERE id = %s AND status = 'sending'
"""

# A final outcome of the sender: not_sent (the API said no) or unknown (an attempt was interrupted).
MARK_FINAL = """
UPDATE broadcast_recipients
SET status = %s, error_code = %s, error_message = %s, not_sent_at = %s, updated_at = %s
WHERE id = %s AND status = 'sending'
"""

# A retryable failure: back to queued (so the redelivery can claim it), the error kept for the page.
RELEASE_FOR_RETRY = """
UPDATE broadcast_recipients SET status = 'queued', error_code = %s, error_message = %s, updated_at = %s
WHERE id = %s AND status = 'sending'
"""

# ---- webhooks ----------------------------------------------------------------------------------

# One statement per status: the status moves only forward; each time column keeps its first value.
# MySQL applies SET assignments left to right (later ones see earlier results), so status comes last.
_APPLY = """
UPDATE broadcast_recipients
SET error_code = IF({rank} < {new_rank} AND %(status)s = 'failed', %(error_code)s, error_code),
    error_message = IF({rank} < {new_rank} AND %(status)s = 'failed', %(error_message)s, error_message),
    {column} = COALESCE({column}, %(time)s),
    updated_at = %(now)s,
    status = IF({rank} < {new_rank}, %(status)s, status)
WHERE message_id = %(message_id)s
"""
APPLY_STATUS = {
    status: _APPLY.format(rank=_RANK, new_rank=_NEW_RANK, column=column)
    for status, column in (("sent", "sent_at"), ("delivered", "delivered_at"), ("read", "read_at"),
                           ("failed", "failed_at"))
}

# ---- tokens ------------------------------------------------------------------------------------

GET_TOKENS = """
SELECT access_token, access_issued_at, access_expires_at, refresh_token, refresh_expires_at,
       obtained_at, refreshed_at, callback_digest, callback_registered_at
FROM chatapp_tokens WHERE id = 1
"""

LOCK_TOKENS = GET_TOKENS.strip() + " FOR UPDATE"

ENSURE_TOKEN_ROW = "INSERT IGNORE INTO chatapp_tokens (id) VALUES (1)"

STORE_OBTAINED = """
UPDATE chatapp_tokens
SET access_token = %s, access_issued_at = %s, access_expires_at = %s, refresh_token = %s, refresh_expires_at = %s,
    obtained_at = %s, callback_digest = NULL, callback_registered_at = NULL
WHERE id = 1
"""

STORE_REFRESHED = """
UPDATE chatapp_tokens
SET access_token = %s, access_issued_at = %s, access_expires_at = %s, refresh_token = %s, refresh_expires_at = %s,
    refreshed_at = %s
WHERE id = 1
"""

REWRITE_TOKENS = "UPDATE chatapp_tokens SET access_token = %s, refresh_token = %s WHERE id = 1"

STORE_CALLBACK = "UPDATE chatapp_tokens SET callback_digest = %s, callback_registered_at = %s WHERE id = 1"

FORGET_TOKENS = """
UPDATE chatapp_tokens
SET access_token = NULL, access_issued_at = NULL, access_expires_at = NULL, refresh_token = NULL,
    refresh_expires_at = NULL, callback_digest = NULL, callback_registered_at = NULL
WHERE id = 1
"""

# ---- sign-in throttling --------------------------------------------------------------------------

# common.throttle.Gate's statements: the upsert creates the client's row (or takes its lock), the SELECT reads
# it under that lock; parallel requests from one client wait for each other only for this short transaction.
LOCK_LOGIN = """
INSERT INTO login_failures (client, failures, last_failure_at) VALUES (%(key)s, 0, %(now)s)
ON DUPLICATE KEY UPDATE client = client
"""
LOCKED_LOGIN = "SELECT failures, last_failure_at, locked_until FROM login_failures WHERE client = %(key)s FOR UPDATE"

SAVE_LOGIN = """
UPDATE login_failures
SET failures = %(attempts)s, last_failure_at = %(last_attempt_at)s, locked_until = %(locked_until)s
WHERE client = %(key)s
"""

FORGET_LOGIN_FAILURES = "DELETE FROM login_failures WHERE client = %(key)s"

PURGE_LOGIN_FAILURES = """
DELETE FROM login_failures
WHERE last_failure_at < %(forget_before)s AND (locked_until IS NULL OR locked_until < %(now)s)
"""
