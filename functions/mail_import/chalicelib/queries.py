"""Every SQL statement of the mail_import product; values are always passed as parameters."""

# ---- accounts ----------------------------------------------------------------------------------

CREATE_ACCOUNT = """
    INSERT INTO mail_import.accounts (provider, host, port, use_ssl, login, password_enc, token_digest, folders)
    VALUES (%(provider)s, %(host)s, %(port)s, %(use_ssl)s, %(login)s, %(password_enc)s, %(token_digest)s,
            %(folders)s)
    RETURNING id
"""

_ACCOUNT_COLUMNS = "id, provider, host, port, use_ssl, login, folders, status, error, error_message, created_at"

ACCOUNT = "SELECT " + _ACCOUNT_COLUMNS + ", token_digest FROM mail_import.accounts WHERE id = %s"

ACCOUNT_SECRET = "SELECT password_enc FROM mail_import.accounts WHERE id = %s"

SET_ACCOUNT_STATUS = """
    UPDATE mail_import.accounts SET status = %s, error = %s, error_message = %s, updated_at = now() WHERE id = %s
"""

ACCOUNT_HAS_MESSAGES = "SELECT EXISTS (SELECT 1 FROM mail_import.messages WHERE account_id = %s)"

# ---- jobs --------------------------------------------------------------------------------------

_JOB_COLUMNS = """
    id, account_id, state, folders, folder_index, phase, plan_uidvalidity, plan_uids, plan_top, scan_below,
    checked, total, remaining, imported, chunks, imap_commands, error, error_message, updated_at
"""

# A job whose lease lapsed long ago and that has not moved since lost its queue message for good
# (e.g. it went to the DLQ): let a new job take its place.
SUPERSEDE_STALE_JOB = """
    UPDATE mail_import.jobs SET state = 'superseded', updated_at = now(), finished_at = now()
    WHERE account_id = %(account)s AND state IN ('queued', 'running')
      AND updated_at < now() - make_interval(secs => %(stale_seconds)s)
      AND (lease_until IS NULL OR lease_until < now())
"""

# The partial unique index jobs_one_active turns a second active job into a no-op.
CREATE_JOB = """
    INSERT INTO mail_import.jobs (account_id) VALUES (%s)
    ON CONFLICT DO NOTHING
    RETURNING id
"""

ACTIVE_JOB = "SELECT " + _JOB_COLUMNS + """
    FROM mail_import.jobs WHERE account_id = %s AND state IN ('queued', 'running')
"""

LATEST_JOB = "SELECT " + _JOB_COLUMNS + """
    FROM mail_import.jobs WHERE account_id = %s ORDER BY id DESC LIMIT 1
"""

JOB = "SELECT " + _JOB_COLUMNS + " FROM mail_import.jobs WHERE id = %s"

# Seconds until the job's current lease ends (0 when it has none or it has ended).
LEASE_LEFT = """
    SELECT COALESCE(GREATEST(EXTRACT(EPOCH FROM lease_until - now()), 0), 0)::float
    FROM mail_import.jobs WHERE id = %s
"""

# Take the job for one chunk: only an active job, only if nobody else holds an unexpired lease,
# only for the current chunk message (an older sequence number is a stale duplicate).
LEASE_JOB = "UPDATE mail_import.jobs SET " + """
        state = 'running', lease_owner = %(owner)s,
        lease_until = now() + make_interval(secs => %(seconds)s), updated_at = now()
    WHERE id = %(job)s AND state IN ('queued', 'running') AND chunks <= %(seq)s
      AND (lease_until IS NULL OR lease_until < now())
    RETURNING """ + _JOB_COLUMNS

RELEASE_JOB = """
    UPDATE mail_import.jobs SET lease_owner = NULL, lease_until = NULL
    WHERE id = %(job)s AND lease_owner = %(owner)s
"""

NEXT_CHUNK = """
    UPDATE mail_import.jobs SET chunks = GREATEST(chunks, %(next)s), lease_owner = NULL, lease_until = NULL,
        updated_at = now()
    WHERE id = %(job)s AND lease_owner = %(owner)s
"""

SET_JOB_FOLDERS = """
    UPDATE mail_import.jobs SET folders = %(folders)s, updated_at = now()
    WHERE id = %(job)s AND lease_owner = %(owner)s
"""

SET_JOB_COMMANDS = """
    UPDATE mail_import.jobs SET imap_commands = imap_commands + %(commands)s
    WHERE id = %(job)s
"""

# Phase 1 progress of the fallback scan (the UIDs found so far and where to go on).
SAVE_SCAN = """
    UPDATE mail_import.jobs SET phase = 'reading', plan_uidvalidity = %(uidvalidity)s, plan_uids = %(uids)s,
        scan_below = %(scan_below)s, checked = %(checked)s, total = %(total)s, remaining = 0, updated_at = now()
    WHERE id = %(job)s AND lease_owner = %(owner)s
"""

# Phase 1 done: the UIDs to receive; phase 2 starts.
SAVE_PLAN = """
    UPDATE mail_import.jobs SET phase = 'receiving', plan_uidvalidity = %(uidvalidity)s, plan_uids = %(uids)s,
        plan_top = %(top)s, scan_below = NULL, checked = %(checked)s, total = %(total)s, remaining = %(remaining)s,
        updated_at = now()
    WHERE id = %(job)s AND lease_owner = %(owner)s
"""

RECEIVE_PROGRESS = """
    UPDATE mail_import.jobs SET remaining = %(remaining)s, imported = imported + %(imported)s, updated_at = now()
    WHERE id = %(job)s AND lease_owner = %(owner)s
"""

NEXT_FOLDER = """
    UPDATE mail_import.jobs SET folder_index = folder_index + 1, phase = 'reading', plan_uidvalidity = NULL,
        plan_uids = NULL, plan_top = NULL, scan_below = NULL, checked = 0, total = 0, remaining = 0, updated_at = now()
    WHERE id = %(job)s AND lease_owner = %(owner)s
"""

FINISH_JOB = """
    UPDATE mail_import.jobs SET state = %(state)s,
        phase = CASE WHEN %(state)s = 'done' THEN 'done' ELSE phase END,
        error = %(error)s, error_message = %(error_message)s,
        remaining = CASE WHEN %(state)s = 'done' THEN 0 ELSE remaining END,
        lease_owner = NULL, lease_until = NULL, updated_at = now(), finished_at = now()
    WHERE id = %(job)s AND state IN ('queued', 'running')
    RETURNING account_id
"""

# ---- folders (sync state) ----------------------------------------------------------------------

FOLDER_STATE = """
    SELECT uidvalidity, last_uid FROM mail_import.folders WHERE account_id = %s AND name = %s
"""

# A new UIDVALIDITY invalidates the old checkpoint.
SET_FOLDER_STATE = """
    INSERT INTO mail_import.folders (account_id, name, uidvalidity, last_uid) VALUES (%s, %s, %s, %s)
    ON CONFLICT (account_id, name) DO UPDATE
        SET uidvalidity = EXCLUDED.uidvalidity, last_uid = EXCLUDED.last_uid, updated_at = now()
"""

# The checkpoint moves only forward and only under the UIDVALIDITY the rows were fetched with.
ADVANCE_FOLDER = """
    UPDATE mail_import.folders SET last_uid = GREATEST(last_uid, %(last_uid)s), updated_at = now()
    WHERE account_id = %(account)s AND name = %(folder)s AND uidvalidity = %(uidvalidity)s
"""

# ---- messages ----------------------------------------------------------------------------------

KNOWN_MESSAGE_IDS = """
    SELECT message_id FROM mail_import.messages WHERE account_id = %s AND message_id = ANY(%s)
"""

# ON CONFLICT DO NOTHING covers both the (folder, uidvalidity, uid) key and the per-account Message-ID.
INSERT_MESSAGES = """
    INSERT INTO mail_import.messages (account_id, folder, uidvalidity, uid, message_id, subject, sent_at,
        received_at, sender, recipients, text, size)
    VALUES %s
    ON CONFLICT DO NOTHING
    RETURNING id, uid
"""
INSERT_MESSAGES_TEMPLATE = "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s)"

INSERT_ATTACHMENTS = """
    INSERT INTO mail_import.attachments (message_id, position, filename, content_type, content_id, inline,
        size, storage_key)
    VALUES %s
    ON CONFLICT DO NOTHING
    RETURNING id, message_id, position
"""

SYNCHRONOUS_COMMIT_OFF = "SET LOCAL synchronous_commit TO OFF"

_MESSAGE_COLUMNS = """
    m.id, m.folder, m.uidvalidity, m.uid, m.message_id, m.subject, m.sent_at, m.received_at, m.sender,
    m.recipients, left(m.text, %(snippet)s) AS text, m.size,
    COALESCE((SELECT json_agg(json_build_object('id', a.id, 'filename', a.filename,
                                                'content_type', a.content_type, 'size', a.size)
                              ORDER BY a.position)
              FROM mail_import.attachments a WHERE a.message_id = m.id), '[]') AS attachments
"""

# Newest first, below a cursor: the page's first screen and paging back.
MESSAGES_BEFORE = "SELECT " + _MESSAGE_COLUMNS + """
    FROM mail_import.messages m
    WHERE m.account_id = %(account)s AND m.id < %(before)s
    ORDER BY m.id DESC
    LIMIT %(limit)s
"""

# Oldest first, above a cursor: a page catching up with rows imported since it was drawn.
MESSAGES_AFTER = "SELECT " + _MESSAGE_COLUMNS + """
    FROM mail_import.messages m
    WHERE m.account_id = %(account)s AND m.id > %(after)s
    ORDER BY m.id
    LIMIT %(limit)s
"""

MESSAGE_STATS = """
    SELECT count(*), COALESCE(max(id), 0) FROM mail_import.messages WHERE account_id = %s
"""

ATTACHMENT = """
    SELECT a.filename, a.content_type, a.size, a.storage_key
    FROM mail_import.attachments a JOIN mail_import.messages m ON m.id = a.message_id
    WHERE a.id = %s AND m.account_id = %s
"""

# ---- WebSocket connections ---------------------------------------------------------------------

ADD_CONNECTION = """
    INSERT INTO mail_import.ws_connections (connection_id, account_id) VALUES (%s, %s)
    ON CONFLICT (connection_id) DO UPDATE SET account_id = EXCLUDED.account_id
"""

CONNECTION_ACCOUNT = "SELECT account_id FROM mail_import.ws_connections WHERE connection_id = %s"

DELETE_CONNECTION = "DELETE FROM mail_import.ws_connections WHERE connection_id = %s"

CONNECTIONS = "SELECT connection_id FROM mail_import.ws_connections WHERE account_id = %s"
