"""Every SQL statement of code_check (parameters only, never formatted values)."""

# ---- users, sessions, login throttling -------------------------------------------------------
INSERT_USER = """
INSERT INTO code_check.users (email, password_hash, registered_from, language) VALUES (%s, %s, %s, %s)
ON CONFLICT DO NOTHING RETURNING id"""
# Registrations from one client address are counted under a per-address transaction lock, so that
# parallel registrations cannot all see the same count.
LOCK_REGISTRATIONS_FROM = "SELECT pg_advisory_xact_lock(hashtextextended('code_check.register:' || %s, 0))"
REGISTRATIONS_FROM = """
SELECT count(*) FROM code_check.users
WHERE registered_from = %s AND created_at > now() - make_interval(secs => %s)"""
USER_BY_EMAIL = "SELECT id, email, password_hash FROM code_check.users WHERE lower(email) = lower(%s)"
INSERT_SESSION = """
INSERT INTO code_check.sessions (digest, user_id, csrf, expires_at)
VALUES (%s, %s, %s, now() + make_interval(days => %s))"""
SESSION_USER = """
SELECT u.id, u.email, s.csrf, u.confirmed_at IS NOT NULL AS confirmed
FROM code_check.sessions s JOIN code_check.users u ON u.id = s.user_id
WHERE s.digest = %s AND s.expires_at > now() AND u.deleting_at IS NULL"""
DELETE_SESSION = "DELETE FROM code_check.sessions WHERE digest = %s"
DELETE_EXPIRED_SESSIONS = "DELETE FROM code_check.sessions WHERE user_id = %s AND expires_at <= now()"
# Sign-in attempts (common.throttle.Gate): the upsert creates or locks the key's row for the transaction.
SIGN_IN_LOCK = """
INSERT INTO code_check.sign_in_attempts AS a (key, attempts, last_attempt_at) VALUES (%(key)s, 0, %(now)s)
ON CONFLICT (key) DO UPDATE SET key = a.key
RETURNING attempts, last_attempt_at, locked_until"""
SIGN_IN_SAVE = """
UPDATE code_check.sign_in_attempts
SET attempts = %(attempts)s, last_attempt_at = %(last_attempt_at)s, locked_until = %(locked_until)s
WHERE key = %(key)s"""
SIGN_IN_FORGET = "DELETE FROM code_check.sign_in_attempts WHERE key = %(key)s"
# Run after sign-ins (no schedule of its own): a bounded batch, never waiting for a row a sign-in holds.
SIGN_IN_PURGE = """
DELETE FROM code_check.sign_in_attempts WHERE key IN (
    SELECT key FROM code_check.sign_in_attempts
    WHERE last_attempt_at < %(forget_before)s AND (locked_until IS NULL OR locked_until < %(now)s)
    ORDER BY last_attempt_at LIMIT 100 FOR UPDATE SKIP LOCKED)"""

# ---- confirming the e-mail address -----------------------------------------------------------------
# A link's digest is stored when it is used: a second use finds it (single use).
USE_LINK = "INSERT INTO code_check.used_links (digest) VALUES (%s) ON CONFLICT DO NOTHING RETURNING digest"
CONFIRM_USER = """
UPDATE code_check.users SET confirmed_at = coalesce(confirmed_at, now())
WHERE id = %s AND lower(email) = lower(%s) RETURNING email"""
# Another link only for an unconfirmed account, at most every %s seconds and %s times in all.
CONFIRMATION_SENT = """
UPDATE code_check.users SET confirmation_sent_at = now(), confirmations_sent = confirmations_sent + 1
WHERE id = %s AND confirmed_at IS NULL
  AND (confirmation_sent_at IS NULL OR confirmation_sent_at < now() - make_interval(secs => %s))
  AND confirmations_sent < %s
RETURNING email"""

# ---- password reset, password and address changes ----------------------------------------------------
USER_FOR_UPDATE = "SELECT id, email, password_hash FROM code_check.users WHERE id = %s FOR UPDATE"
SET_PASSWORD = "UPDATE code_check.users SET password_hash = %s WHERE id = %s"
# Every session of the account but the one whose digest is given ('' ends them all).
END_SESSIONS = "DELETE FROM code_check.sessions WHERE user_id = %s AND digest <> %s"
SET_PENDING_EMAIL = "UPDATE code_check.users SET pending_email = %s WHERE id = %s"
PENDING_EMAIL = "SELECT pending_email FROM code_check.users WHERE id = %s"
# The pending address becomes the account's (confirmed: its link was opened) only if the account still has the
# address the link was made for, that one is still pending, and nobody registered it meanwhile.
APPLY_PENDING_EMAIL = """
UPDATE code_check.users u SET email = u.pending_email, pending_email = NULL, confirmed_at = now()
WHERE u.id = %s AND lower(u.email) = lower(%s) AND lower(u.pending_email) = lower(%s)
  AND NOT EXISTS (SELECT 1 FROM code_check.users o WHERE lower(o.email) = lower(%s) AND o.id <> u.id)
RETURNING u.email"""

# ---- deleting an account (accounts/deletion.py) -----------------------------------------------------
MARK_DELETING = "UPDATE code_check.users SET deleting_at = coalesce(deleting_at, now()) WHERE id = %s"
DELETE_TOKENS = "DELETE FROM code_check.api_tokens WHERE user_id = %s"
DELETING = "SELECT deleting_at IS NOT NULL FROM code_check.users WHERE id = %s"
FILES_OF_USER = "SELECT id FROM code_check.files WHERE user_id = %s ORDER BY id LIMIT %s"
# One file with its versions, checks and violations (ON DELETE CASCADE): a bounded transaction per file.
DELETE_FILE = "DELETE FROM code_check.files WHERE id = %s"
# The row goes last (its sessions and tokens with it); only an account whose owner asked.
DELETE_USER = "DELETE FROM code_check.users WHERE id = %s AND deleting_at IS NOT NULL RETURNING id"
# Deletions asked a while ago and not finished: their message was lost (or is failing): sent again.
STALLED_DELETIONS = """
SELECT id FROM code_check.users WHERE deleting_at < now() - make_interval(secs => %s) ORDER BY deleting_at LIMIT 100"""

# ---- API tokens --------------------------------------------------------------------------------
INSERT_TOKEN = """
INSERT INTO code_check.api_tokens (user_id, name, digest, hint) VALUES (%s, %s, %s, %s)
RETURNING id, name, hint, created_at"""
LIST_TOKENS = """
SELECT id, name, hint, created_at, used_at FROM code_check.api_tokens
WHERE user_id = %s AND revoked_at IS NULL ORDER BY id"""
REVOKE_TOKEN = """
UPDATE code_check.api_tokens SET revoked_at = now()
WHERE id = %s AND user_id = %s AND revoked_at IS NULL RETURNING id"""
TOKEN_USER = """
UPDATE code_check.api_tokens t SET used_at = now()
FROM code_check.users u
WHERE t.digest = %s AND t.revoked_at IS NULL AND u.id = t.user_id AND u.deleting_at IS NULL
RETURNING u.id, u.email"""

# ---- files and versions ------------------------------------------------------------------------
LIVE_FILE_BY_NAME = """
SELECT id FROM code_check.files WHERE user_id = %s AND name = %s AND status <> 'deleted' FOR UPDATE"""
INSERT_FILE = """
INSERT INTO code_check.files (user_id, name, badge_key) VALUES (%s, %s, %s)
ON CONFLICT DO NOTHING RETURNING id"""
OWN_FILE_FOR_UPDATE = "SELECT id, name, status FROM code_check.files WHERE id = %s AND user_id = %s FOR UPDATE"
LATEST_VERSION = """
SELECT id, number, sha256 FROM code_check.versions WHERE file_id = %s ORDER BY number DESC LIMIT 1"""
INSERT_VERSION = """
INSERT INTO code_check.versions (file_id, number, s3_key, s3_version_id, sha256, size, line_count)
VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id, number"""
MARK_OVERWRITTEN = "UPDATE code_check.files SET status = 'overwritten', updated_at = now() WHERE id = %s"
MARK_DELETED = """
UPDATE code_check.files SET status = 'deleted', deleted_at = now(), updated_at = now()
WHERE id = %s AND user_id = %s AND status <> 'deleted' RETURNING id"""

# The file list and one file: each with its current (latest) version and that version's latest check.
_FILE_COLUMNS = """
f.id, f.name, f.status, f.badge_key, f.created_at, f.updated_at, f.deleted_at,
v.id AS version_id, v.number, v.size, v.line_count, v.uploaded_at, v.checked_at,
c.id AS check_id, c.outcome, c.problem_count, c.finished_at, c.email_state, c.email_sent_at"""
_FILE_JOINS = """
FROM code_check.files f
LEFT JOIN LATERAL (SELECT * FROM code_check.versions WHERE file_id = f.id ORDER BY number DESC LIMIT 1) v ON true
LEFT JOIN LATERAL (SELECT * FROM code_check.checks WHERE version_id = v.id ORDER BY id DESC LIMIT 1) c ON true"""
LIST_FILES = ("SELECT" + _FILE_COLUMNS + _FILE_JOINS
              + " WHERE f.user_id = %s ORDER BY f.status = 'deleted', f.name, f.id")
OWN_FILE = "SELECT" + _FILE_COLUMNS + _FILE_JOINS + " WHERE f.id = %s AND f.user_id = %s"
FILE_BY_BADGE = "SELECT" + _FILE_COLUMNS + _FILE_JOINS + " WHERE f.badge_key = %s"
FILE_VERSIONS = """
SELECT id, number, size, line_count, sha256, uploaded_at, checked_at
FROM code_check.versions WHERE file_id = %s ORDER BY number DESC"""
VERSION_OF_FILE = """
SELECT v.id, v.number, v.s3_key, v.s3_version_id, v.size, v.line_count, v.sha256, v.uploaded_at, v.checked_at,
       f.name
FROM code_check.versions v JOIN code_check.files f ON f.id = v.file_id
WHERE f.id = %s AND f.user_id = %s AND v.number = %s"""
VERSION_CHECKS = """
SELECT id, started_at, finished_at, outcome, problem_count, error, options, email_state,
       email_sent_at, email_attempts, email_error
FROM code_check.checks WHERE version_id = %s ORDER BY id"""
CHECK_VIOLATIONS = """
SELECT code, line, col, message, source_line FROM code_check.violations WHERE check_id = %s ORDER BY line, col, code"""
# The latest successful check of the nearest earlier version: what "new" and "fixed" are measured against.
PREVIOUS_CHECK = """
SELECT c.id, v.number FROM code_check.versions v
JOIN LATERAL (SELECT id FROM code_check.checks WHERE version_id = v.id AND outcome NOT IN ('error', 'failed')
              ORDER BY id DESC LIMIT 1) c ON true
WHERE v.file_id = %s AND v.number < %s ORDER BY v.number DESC LIMIT 1"""

# ---- the checker -------------------------------------------------------------------------------
# Fair across owners: every owner's oldest unchecked version comes before anyone's second one, so a
# thousand uploads of one user never hold back another user's one file. Row locks are taken in that
# order and held until the results are committed: an overlapping tick skips them and takes the next
# ones (LockRows sits under the LIMIT); the outer WHERE is re-checked on a row another tick just finished.
CLAIM_VERSIONS = """
WITH ranked AS (
    SELECT v.id, row_number() OVER (PARTITION BY f.user_id ORDER BY v.id) AS turn
    FROM code_check.versions v JOIN code_check.files f ON f.id = v.file_id
    JOIN code_check.users u ON u.id = f.user_id
    WHERE v.checked_at IS NULL AND v.given_up_at IS NULL AND f.status <> 'deleted' AND u.deleting_at IS NULL)
SELECT v.id, v.file_id, v.number, v.s3_key, v.s3_version_id, f.name, v.check_attempts AS attempts
FROM ranked r
JOIN code_check.versions v ON v.id = r.id
JOIN code_check.files f ON f.id = v.file_id
WHERE v.checked_at IS NULL AND v.given_up_at IS NULL
ORDER BY r.turn, v.id LIMIT %s
FOR UPDATE OF v SKIP LOCKED"""
INSERT_CHECK = """
INSERT INTO code_check.checks (version_id, started_at, finished_at, outcome, problem_count, error, options,
                               email_state)
VALUES (%s, %s, clock_timestamp(), %s, %s, %s, %s, %s) RETURNING id"""
INSERT_VIOLATIONS = """
INSERT INTO code_check.violations (check_id, code, line, col, message, source_line) VALUES %s"""
MARK_CHECKED = "UPDATE code_check.versions SET checked_at = now() WHERE id = ANY(%s)"
COUNT_ATTEMPT = """
UPDATE code_check.versions SET check_attempts = check_attempts + 1 WHERE id = %s RETURNING check_attempts"""
GIVE_UP = "UPDATE code_check.versions SET given_up_at = now() WHERE id = %s"
# Checks whose e-mail message never reached the queue (the enqueue after the commit failed).
UNQUEUED_CHECKS = """
SELECT id FROM code_check.checks
WHERE email_state = 'pending' AND email_enqueued_at IS NULL AND finished_at < now() - make_interval(secs => %s)
ORDER BY id LIMIT 500"""
MARK_ENQUEUED = "UPDATE code_check.checks SET email_enqueued_at = now() WHERE id = ANY(%s)"

# ---- the notifier ------------------------------------------------------------------------------
CHECK_FOR_EMAIL = """
SELECT c.id, c.email_state, c.email_claimed_at, c.outcome, c.problem_count, c.finished_at, c.options, c.error,
       v.id AS version_id, v.number, v.line_count, f.id AS file_id, f.name, u.email, u.id AS user_id, u.language,
       u.confirmed_at IS NOT NULL AS confirmed, u.deleting_at IS NOT NULL AS deleting,
       c.email_claimed_at < now() - make_interval(secs => %s) AS claim_stale
FROM code_check.checks c
JOIN code_check.versions v ON v.id = c.version_id
JOIN code_check.files f ON f.id = v.file_id
JOIN code_check.users u ON u.id = f.user_id
WHERE c.id = %s FOR UPDATE OF c"""
CLAIM_EMAIL = """
UPDATE code_check.checks SET email_state = 'claimed', email_claimed_at = now(), email_attempts = email_attempts + 1
WHERE id = %s
RETURNING email_attempts"""
EMAIL_SENT = """
UPDATE code_check.checks SET email_state = 'sent', email_sent_at = now(), email_message_id = %s, email_error = NULL
WHERE id = %s AND email_state = 'claimed'"""
# The account's row serialises its e-mails: the daily cap is counted and the claim made under its lock.
LOCK_USER = "SELECT id FROM code_check.users WHERE id = %s FOR UPDATE"
EMAILS_TODAY = """
SELECT count(*) FROM code_check.checks c
JOIN code_check.versions v ON v.id = c.version_id
JOIN code_check.files f ON f.id = v.file_id
WHERE f.user_id = %s AND c.email_state IN ('claimed', 'sent') AND c.email_claimed_at > now() - interval '1 day'"""
EMAIL_SKIPPED = """
UPDATE code_check.checks SET email_state = 'skipped', email_error = %s
WHERE id = %s AND email_state IN ('pending', 'claimed')"""
EMAIL_FAILED = """
UPDATE code_check.checks SET email_state = 'pending', email_claimed_at = NULL, email_error = %s
WHERE id = %s AND email_state = 'claimed'"""
# The last allowed SES call failed too: final, with the reason for the page; the message leaves the queue.
EMAIL_GAVE_UP = """
UPDATE code_check.checks SET email_state = 'skipped', email_claimed_at = NULL, email_error = %s
WHERE id = %s AND email_state = 'claimed'"""
