"""Every SQL statement of notifications (schema `notifications`); values are always parameters."""

# ---- operators and tokens -------------------------------------------------------------------------
OPERATOR_BY_NAME = "SELECT id, password_hash FROM notifications.operators WHERE username = %s"
CREATE_OPERATOR = """
INSERT INTO notifications.operators (username, password_hash) VALUES (%s, %s)
ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash RETURNING id"""
# The first operator: created only while there is no operator at all.
CREATE_FIRST_OPERATOR = """
INSERT INTO notifications.operators (username, password_hash)
SELECT %s, %s WHERE NOT EXISTS (SELECT 1 FROM notifications.operators)
ON CONFLICT (username) DO NOTHING"""
ANY_OPERATOR = "SELECT EXISTS (SELECT 1 FROM notifications.operators)"
CREATE_TOKEN = "INSERT INTO notifications.tokens (digest, operator_id, expires_at) VALUES (%s, %s, %s)"
OPERATOR_BY_TOKEN = """
SELECT o.id, o.username FROM notifications.tokens t JOIN notifications.operators o ON o.id = t.operator_id
WHERE t.digest = %s AND t.expires_at > %s"""
DELETE_TOKEN = "DELETE FROM notifications.tokens WHERE digest = %s"
DELETE_EXPIRED_TOKENS = "DELETE FROM notifications.tokens WHERE expires_at <= %s"

# Sign-in attempts (common.throttle.Gate): the upsert creates or locks the key's row for the transaction.
SIGN_IN_LOCK = """
INSERT INTO notifications.sign_in_attempts AS a (key, attempts, last_attempt_at) VALUES (%(key)s, 0, %(now)s)
ON CONFLICT (key) DO UPDATE SET key = a.key
RETURNING attempts, last_attempt_at, locked_until"""
SIGN_IN_SAVE = """
UPDATE notifications.sign_in_attempts
SET attempts = %(attempts)s, last_attempt_at = %(last_attempt_at)s, locked_until = %(locked_until)s
WHERE key = %(key)s"""
SIGN_IN_FORGET = "DELETE FROM notifications.sign_in_attempts WHERE key = %(key)s"
# Run after sign-ins (no schedule of its own): a bounded batch, never waiting for a row a sign-in holds.
SIGN_IN_PURGE = """
DELETE FROM notifications.sign_in_attempts WHERE key IN (
    SELECT key FROM notifications.sign_in_attempts
    WHERE last_attempt_at < %(forget_before)s AND (locked_until IS NULL OR locked_until < %(now)s)
    ORDER BY last_attempt_at LIMIT 100 FOR UPDATE SKIP LOCKED)"""

# ---- clients -----------------------------------------------------------------------------------------
CLIENT_COLUMNS = "id, phone, operator_code, tag, timezone, created_at"
INSERT_CLIENT = f"""
INSERT INTO notifications.clients (phone, operator_code, tag, timezone) VALUES (%s, %s, %s, %s)
ON CONFLICT (phone) WHERE deleted_at IS NULL DO NOTHING RETURNING {CLIENT_COLUMNS}"""
CLIENT_BY_ID = f"SELECT {CLIENT_COLUMNS} FROM notifications.clients WHERE id = %s AND deleted_at IS NULL"
CLIENT_ID_BY_PHONE = "SELECT id FROM notifications.clients WHERE phone = %s AND deleted_at IS NULL"
LIST_CLIENTS = f"""
SELECT {CLIENT_COLUMNS} FROM notifications.clients WHERE id > %s AND deleted_at IS NULL ORDER BY id LIMIT %s"""
# The admin page's client search: every filter optional ('' = any), keyset paging by id.
SEARCH_CLIENTS = f"""
SELECT {CLIENT_COLUMNS} FROM notifications.clients
WHERE deleted_at IS NULL AND id > %(after)s
  AND (%(phone)s = '' OR phone LIKE %(phone)s || '%%')
  AND (%(operator_code)s = '' OR operator_code = %(operator_code)s)
  AND (%(tag)s = '' OR tag = %(tag)s)
  AND (%(timezone)s = '' OR timezone = %(timezone)s)
ORDER BY id LIMIT %(limit)s"""
# CSV import: which phones are already stored, then every new row in one statement.
STORED_PHONES = "SELECT phone FROM notifications.clients WHERE phone = ANY(%s) AND deleted_at IS NULL"
IMPORT_CLIENTS = """
INSERT INTO notifications.clients (phone, operator_code, tag, timezone)
SELECT * FROM unnest(%(phone)s::text[], %(operator_code)s::text[], %(tag)s::text[], %(timezone)s::text[])
ON CONFLICT (phone) WHERE deleted_at IS NULL DO NOTHING"""
UPDATE_CLIENT = f"""
UPDATE notifications.clients SET phone = %s, operator_code = %s, tag = %s, timezone = %s
WHERE id = %s AND deleted_at IS NULL
RETURNING {CLIENT_COLUMNS}"""
# A deleted client stays (marked) with its messages: the statistics keep them. What it was still to get expires.
DELETE_CLIENT = "UPDATE notifications.clients SET deleted_at = now() WHERE id = %s AND deleted_at IS NULL"
EXPIRE_CLIENT_MESSAGES = """
UPDATE notifications.messages SET status = 'expired', last_error = %s
WHERE client_id = %s AND status = 'processing' AND claimed_at IS NULL"""

# ---- mailings ----------------------------------------------------------------------------------------
MAILING_COLUMNS = ("id, start_at, end_at, text, operator_codes, tags, window_start, window_end, dispatch_state, "
                   "dispatched_at, created_at, updated_at, deleted_at")
INSERT_MAILING = f"""
INSERT INTO notifications.mailings (start_at, end_at, text, operator_codes, tags, window_start, window_end)
VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING {MAILING_COLUMNS}"""
MAILING_BY_ID = f"SELECT {MAILING_COLUMNS} FROM notifications.mailings WHERE id = %s AND deleted_at IS NULL"
# The statistics of a mailing answer for a deleted one too (its history).
MAILING_IN_HISTORY = f"SELECT {MAILING_COLUMNS} FROM notifications.mailings WHERE id = %s"
MAILING_FOR_UPDATE = f"""
SELECT {MAILING_COLUMNS} FROM notifications.mailings WHERE id = %s AND deleted_at IS NULL FOR UPDATE"""
LIST_MAILINGS = f"""
SELECT {MAILING_COLUMNS} FROM notifications.mailings WHERE id > %s AND deleted_at IS NULL ORDER BY id LIMIT %s"""
UPDATE_MAILING = f"""
UPDATE notifications.mailings SET start_at = %s, end_at = %s, text = %s, operator_codes = %s, tags = %s,
    window_start = %s, window_end = %s, updated_at = now()
WHERE id = %s AND deleted_at IS NULL RETURNING {MAILING_COLUMNS}"""
DELETE_MAILING = "UPDATE notifications.mailings SET deleted_at = now() WHERE id = %s AND deleted_at IS NULL"

# ---- dispatch ----------------------------------------------------------------------------------------
# Taking the lease is the one guard between two dispatchers of one mailing: whoever updates the row first
# dispatches; the other sees no row. A lease that lapsed belongs to a dispatcher that died.
TAKE_DISPATCH_LEASE = f"""
WITH before AS (SELECT id, dispatch_state FROM notifications.mailings WHERE id = %(id)s FOR UPDATE)
UPDATE notifications.mailings g SET dispatch_state = 'dispatching', dispatch_lease = %(lease)s
FROM before
WHERE g.id = before.id AND g.start_at <= %(now)s AND g.deleted_at IS NULL
  AND (g.dispatch_state = 'pending' OR (g.dispatch_state = 'dispatching' AND g.dispatch_lease < %(now)s))
RETURNING {', '.join('g.' + c.strip() for c in MAILING_COLUMNS.split(','))},
          before.dispatch_state AS previous_state"""
FINISH_DISPATCH = """
UPDATE notifications.mailings SET dispatch_state = 'done', dispatch_lease = NULL, dispatched_at = %s
WHERE id = %s AND dispatch_state = 'dispatching'"""
DUE_MAILINGS = """
SELECT id FROM notifications.mailings
WHERE dispatch_state <> 'done' AND start_at <= %(now)s AND deleted_at IS NULL
  AND (dispatch_state = 'pending' OR dispatch_lease < %(now)s)
ORDER BY start_at LIMIT %(limit)s"""
# The filter: empty arrays match everyone.
_MATCHING = """
FROM notifications.clients c
WHERE c.deleted_at IS NULL AND (cardinality(%(codes)s::text[]) = 0 OR c.operator_code = ANY(%(codes)s::text[]))
  AND (cardinality(%(tags)s::text[]) = 0 OR c.tag = ANY(%(tags)s::text[]))"""
MATCHING_TIMEZONES = "SELECT DISTINCT c.timezone " + _MATCHING
MATCHING_CLIENT_COUNT = "SELECT count(*) " + _MATCHING
# One statement creates every message; ON CONFLICT makes a second dispatch create nothing twice.
# Clients of a time zone whose window never opens before the end get their message expired at once.
CREATE_MESSAGES = """
WITH created AS (
    INSERT INTO notifications.messages (mailing_id, client_id, status, last_error)
    SELECT %(mailing)s, c.id,
           CASE WHEN %(ended)s OR c.timezone = ANY(%(closed)s::text[]) THEN 'expired' ELSE 'processing' END,
           CASE WHEN %(ended)s THEN %(ended_reason)s
                WHEN c.timezone = ANY(%(closed)s::text[]) THEN %(closed_reason)s END
    """ + _MATCHING + """
    ORDER BY c.id
    ON CONFLICT (mailing_id, client_id) DO NOTHING
    RETURNING id, client_id, status
)
SELECT created.id, created.client_id, c.timezone FROM created JOIN notifications.clients c ON c.id = created.client_id
WHERE created.status = 'processing'"""
# After a dispatcher died mid-way, everything still processing is queued again (the sender's claim makes
# a second copy harmless).
PROCESSING_MESSAGES = """
SELECT m.id, m.client_id, c.timezone FROM notifications.messages m
JOIN notifications.clients c ON c.id = m.client_id
WHERE m.mailing_id = %s AND m.status = 'processing'"""

# ---- sending -----------------------------------------------------------------------------------------
MESSAGE_FOR_SEND = """
SELECT m.id, m.status, m.mailing_id, m.client_id, m.attempts, m.claimed_at, c.phone, c.timezone,
       g.text, g.start_at, g.end_at, g.window_start, g.window_end, c.deleted_at IS NOT NULL AS client_deleted
FROM notifications.messages m
JOIN notifications.clients c ON c.id = m.client_id
JOIN notifications.mailings g ON g.id = m.mailing_id
WHERE m.id = %s"""
# The claim, committed before the provider is called: only one sender at a time, and only while the
# mailing has not ended (the end is re-checked here, right before the call).
CLAIM_MESSAGE = """
UPDATE notifications.messages m SET claimed_at = %(now)s, claim_id = %(claim)s, attempts = m.attempts + 1
FROM notifications.mailings g
WHERE m.id = %(id)s AND g.id = m.mailing_id AND m.status = 'processing' AND m.claimed_at IS NULL
  AND g.end_at > %(now)s
RETURNING m.attempts"""
EXPIRE_MESSAGE = """
UPDATE notifications.messages SET status = 'expired', last_error = %s, claimed_at = NULL, claim_id = NULL
WHERE id = %s AND status = 'processing' AND claimed_at IS NULL"""
MARK_SENT = """
UPDATE notifications.messages SET status = 'sent', sent_at = %s, last_error = NULL, claimed_at = NULL,
    claim_id = NULL
WHERE id = %s AND claim_id = %s AND status = 'processing'"""
MARK_ERROR = """
UPDATE notifications.messages SET status = 'error', last_error = %s, claimed_at = NULL, claim_id = NULL
WHERE id = %s AND claim_id = %s AND status = 'processing'"""
RELEASE_CLAIM = """
UPDATE notifications.messages SET claimed_at = NULL, claim_id = NULL, last_error = %s
WHERE id = %s AND claim_id = %s AND status = 'processing'"""
# A claim older than the longest possible call: its sender died during (or right before) the call, so
# whether the provider got the message is unknown. It is closed as an error, never sent again blindly.
RESOLVE_STALE_CLAIM = """
UPDATE notifications.messages SET status = 'error', last_error = %s, claimed_at = NULL, claim_id = NULL
WHERE id = %s AND status = 'processing' AND claimed_at IS NOT NULL AND claimed_at < %s"""

# ---- stats -------------------------------------------------------------------------------------------
OVERALL_STATS = f"""
SELECT {', '.join('g.' + c.strip() for c in MAILING_COLUMNS.split(','))},
       coalesce(sum(k.n) FILTER (WHERE k.status = 'processing'), 0) AS processing,
       coalesce(sum(k.n) FILTER (WHERE k.status = 'sent'), 0) AS sent,
       coalesce(sum(k.n) FILTER (WHERE k.status = 'error'), 0) AS error,
       coalesce(sum(k.n) FILTER (WHERE k.status = 'expired'), 0) AS expired
FROM notifications.mailings g LEFT JOIN notifications.message_counts k ON k.mailing_id = g.id
GROUP BY g.id ORDER BY g.id"""
MAILING_COUNTS = "SELECT status, n FROM notifications.message_counts WHERE mailing_id = %s"
MAILING_MESSAGES = """
SELECT m.id, m.created_at, m.status, m.mailing_id, m.client_id, m.attempts, m.last_error, m.sent_at,
       c.deleted_at IS NOT NULL AS client_deleted
FROM notifications.messages m JOIN notifications.clients c ON c.id = m.client_id
WHERE m.mailing_id = %s AND m.id > %s ORDER BY m.id LIMIT %s"""

# ---- metrics (chalicelib/metrics.py: read at each Prometheus scrape) ---------------------------------
METRICS_MAILINGS_BY_STATE = """
SELECT dispatch_state, count(*) FROM notifications.mailings GROUP BY dispatch_state ORDER BY dispatch_state"""
# Provider calls per mailing: every claim counts one attempt (attempts - 1 of them were retries).
METRICS_ATTEMPTS = """
SELECT mailing_id, sum(attempts), sum(greatest(attempts - 1, 0)) FROM notifications.messages
GROUP BY mailing_id ORDER BY mailing_id"""
# Messages of running mailings still waiting to be sent (queued, retrying or outside their time window).
METRICS_WAITING = """
SELECT count(*), count(*) FILTER (WHERE m.claimed_at IS NOT NULL), min(m.created_at)
FROM notifications.messages m JOIN notifications.mailings g ON g.id = m.mailing_id
WHERE m.status = 'processing' AND g.start_at <= %(now)s AND g.end_at > %(now)s"""

# ---- sign-in with the organisation's identity provider (chalicelib/oidc.py) ---------------------------
# The operator named by the verified e-mail; a new one gets an unusable password, an existing one keeps its own.
OIDC_OPERATOR = """
INSERT INTO notifications.operators (username, password_hash) VALUES (%s, %s)
ON CONFLICT (username) DO UPDATE SET username = EXCLUDED.username RETURNING id"""
