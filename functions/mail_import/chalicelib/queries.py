"""Every SQL statement of the mail_import product; values are always passed as parameters."""

# ---- accounts ----------------------------------------------------------------------------------

CREATE_ACCOUNT = """
    INSERT INTO mail_import.accounts (provider, host, port, use_ssl, login, password_enc, token_digest, folders)
    VALUES (%(provider)s, %(host)s, %(port)s, %(use_ssl)s, %(login)s, %(password_enc)s, %(token_digest)s,
            %(folders)s)
    RETURNING id
"""

_ACCOUNT_COLUMNS = """id, provider, host, port, use_ssl, login, folders, status, error, error_message, created_at,
    sync_minutes, next_sync_at"""

ACCOUNT = "SELECT " + _ACCOUNT_COLUMNS + ", token_digest FROM mail_import.accounts WHERE id = %s"

# The account if the token is one of its tokens (the first one, or one given when the mailbox was added again).
AUTHORIZED_ACCOUNT = "SELECT " + _ACCOUNT_COLUMNS + """ FROM mail_import.accounts a WHERE id = %(account)s
    AND deleting_at IS NULL AND (token_digest = %(digest)s OR EXISTS (SELECT 1 FROM mail_import.account_tokens t
                                              WHERE t.account_id = a.id AND t.token_digest = %(digest)s))"""

# One mailbox is added at a time: two forms for the same mailbox cannot both create an account.
LOCK_MAILBOX = "SELECT pg_advisory_xact_lock(hashtextextended('mail_import.mailbox ' || %(key)s, 0))"

SAME_MAILBOX = """
    SELECT id FROM mail_import.accounts WHERE lower(host) = lower(%(host)s) AND lower(login) = lower(%(login)s)
      AND deleting_at IS NULL
    ORDER BY id LIMIT 1
"""

# The accounts a browser's cookies open ((id, token digest) pairs), with their state, size and last finished sync.
MY_ACCOUNTS = """
    SELECT a.id, a.login, a.host, a.port, a.status, j.state AS job_state,
        (SELECT count(*) FROM mail_import.messages m WHERE m.account_id = a.id) AS messages,
        (SELECT COALESCE(sum(m.size), 0) FROM mail_import.messages m WHERE m.account_id = a.id) AS bytes,
        (SELECT max(f.finished_at) FROM mail_import.jobs f WHERE f.account_id = a.id AND f.state = 'done') AS synced_at
    FROM unnest(%(ids)s::bigint[], %(digests)s::text[]) AS c(id, digest)
    JOIN mail_import.accounts a ON a.id = c.id AND a.deleting_at IS NULL
    LEFT JOIN LATERAL (SELECT state FROM mail_import.jobs WHERE account_id = a.id ORDER BY id DESC LIMIT 1) j ON true
    WHERE a.token_digest = c.digest
       OR EXISTS (SELECT 1 FROM mail_import.account_tokens t WHERE t.account_id = a.id AND t.token_digest = c.digest)
    ORDER BY a.id
"""

# ---- deleting an account (engine/deletion.py) ---------------------------------------------------

# What the deletion will remove, for the page; then the mark: the password and the schedule go at once.
DELETION_SUMMARY = """
    SELECT a.login, (SELECT count(*) FROM mail_import.messages m WHERE m.account_id = a.id) AS messages,
        (SELECT count(*) FROM mail_import.attachments t JOIN mail_import.messages m ON m.id = t.message_id
         WHERE m.account_id = a.id) AS attachments
    FROM mail_import.accounts a WHERE a.id = %s AND a.deleting_at IS NULL
    FOR UPDATE OF a
"""

MARK_DELETING = """
    UPDATE mail_import.accounts SET deleting_at = now(), password_enc = '', sync_minutes = NULL, updated_at = now()
    WHERE id = %s AND deleting_at IS NULL
"""

DELETING_ACCOUNT = "SELECT deleting_at IS NOT NULL FROM mail_import.accounts WHERE id = %s"

# Attachments stored before packs, as whole objects of their own (packs are found by their prefix).
WHOLE_OBJECT_KEYS = """
    SELECT DISTINCT t.storage_key FROM mail_import.attachments t JOIN mail_import.messages m ON m.id = t.message_id
    WHERE m.account_id = %s AND position('#' IN t.storage_key) = 0
"""

# One bounded batch of the account's messages (their attachments and search rows go with them: ON DELETE CASCADE).
DELETE_MESSAGES = """
    DELETE FROM mail_import.messages WHERE id IN (
        SELECT id FROM mail_import.messages WHERE account_id = %(account)s ORDER BY id LIMIT %(limit)s)
"""

DELETE_ACCOUNT = "DELETE FROM mail_import.accounts WHERE id = %s AND deleting_at IS NOT NULL"

# Deletions whose queue message was lost (the send failed, or it went to the dead-letter queue).
STALLED_DELETIONS = """
    SELECT id FROM mail_import.accounts WHERE deleting_at < now() - make_interval(secs => %(seconds)s)
    ORDER BY deleting_at LIMIT %(limit)s
"""

ADD_TOKEN = """
    INSERT INTO mail_import.account_tokens (account_id, token_digest) VALUES (%(account)s, %(digest)s)
"""

ACCOUNT_SECRET = "SELECT password_enc FROM mail_import.accounts WHERE id = %s"

SET_ACCOUNT_STATUS = """
    UPDATE mail_import.accounts SET status = %s, error = %s, error_message = %s, updated_at = now() WHERE id = %s
"""

ACCOUNT_HAS_MESSAGES = "SELECT EXISTS (SELECT 1 FROM mail_import.messages WHERE account_id = %s)"

# ---- jobs --------------------------------------------------------------------------------------

_JOB_COLUMNS = """
    id, account_id, state, folders, folder_index, phase, plan_uidvalidity, plan_uids, plan_top, scan_below,
    checked, total, remaining, imported, chunks, imap_commands, error, error_message, updated_at, index_from,
    failures, interrupted OR (lease_owner IS NOT NULL AND lease_until < now()) AS interrupted, cancel_requested
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
# only for the current chunk message (an older sequence number is a stale duplicate). A lease still naming a
# holder (it never gave the job back: killed, timed out, out of memory) marks the job interrupted until the
# next commit, for the page.
LEASE_JOB = "UPDATE mail_import.jobs SET " + """
        state = 'running', lease_owner = %(owner)s, lease_host = %(host)s,
        lease_until = now() + make_interval(secs => %(seconds)s), updated_at = now(),
        interrupted = interrupted OR lease_owner IS NOT NULL
    WHERE id = %(job)s AND state IN ('queued', 'running') AND chunks <= %(seq)s
      AND (lease_until IS NULL OR lease_until < now())
    RETURNING """ + _JOB_COLUMNS

# The lease holder renews it while its chunk is alive (engine/lease.py); 0 rows: it is no longer ours.
RENEW_LEASE = """
    UPDATE mail_import.jobs SET lease_until = now() + make_interval(secs => %(seconds)s)
    WHERE id = %(job)s AND lease_owner = %(owner)s
"""

# The IMAP host a job's account imports from (the per-host cap's key).
JOB_HOST = """
    SELECT lower(a.host) FROM mail_import.jobs j JOIN mail_import.accounts a ON a.id = j.account_id WHERE j.id = %s
"""

# Serialises the per-host count-then-lease of chunks of one host (transaction-scoped).
LOCK_HOST = "SELECT pg_advisory_xact_lock(hashtextextended('mail_import.host:' || %s, 0))"

# Chunks of other jobs holding a live lease on this IMAP host.
HOST_LEASES = """
    SELECT count(*) FROM mail_import.jobs
    WHERE lease_owner IS NOT NULL AND lease_host = %(host)s AND lease_until > now() AND id <> %(job)s
"""

# A chunk message reached the dead-letter queue: it was delivered maxReceiveCount times and never finished (its
# worker died every time). For a job still at that chunk that counts as one failure of the data; a job that has
# finished or moved past it since gives no row (the message is only noise then).
DEAD_LETTER_FAILURE = """
    UPDATE mail_import.jobs SET failures = failures + 1, interrupted = true, updated_at = now()
    WHERE id = %(job)s AND state IN ('queued', 'running') AND chunks <= %(seq)s
    RETURNING failures
"""

# The chunk's message came back while the job is still leased: its holder stopped (the message shows again only
# when the holder's heartbeat stops); the page says "retrying" until the takeover's first commit.
MARK_INTERRUPTED = """
    UPDATE mail_import.jobs SET interrupted = true
    WHERE id = %(job)s AND state IN ('queued', 'running') AND chunks = %(seq)s AND NOT interrupted
"""

# Give the lease back (the chunk failed and its message comes back): the page says "retrying".
RELEASE_JOB = """
    UPDATE mail_import.jobs SET lease_owner = NULL, lease_until = NULL, lease_host = NULL, interrupted = true
    WHERE id = %(job)s AND lease_owner = %(owner)s
"""

# The import code itself saw the chunk fail (bad data, a bug): one of the job's MAIL_IMPORT_MAX_ATTEMPTS spent.
COUNT_FAILURE = """
    UPDATE mail_import.jobs SET failures = failures + 1, lease_owner = NULL, lease_until = NULL, lease_host = NULL,
        interrupted = true
    WHERE id = %(job)s AND lease_owner = %(owner)s
    RETURNING failures
"""

NEXT_CHUNK = """
    UPDATE mail_import.jobs SET chunks = GREATEST(chunks, %(next)s), lease_owner = NULL, lease_until = NULL,
        lease_host = NULL, updated_at = now()
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

# index_from: the lowest message id the job stored (LEAST ignores NULL), where its last indexing request starts.
RECEIVE_PROGRESS = """
    UPDATE mail_import.jobs SET remaining = %(remaining)s, imported = imported + %(imported)s, updated_at = now(),
        index_from = LEAST(index_from, %(first_id)s), interrupted = false
    WHERE id = %(job)s AND lease_owner = %(owner)s
    RETURNING cancel_requested
"""

# Cancel the account's active job: the flag for the chunk holding it, ...
REQUEST_CANCEL = """
    UPDATE mail_import.jobs SET cancel_requested = true, updated_at = now()
    WHERE account_id = %s AND state IN ('queued', 'running')
    RETURNING id
"""

# ... or, when no chunk holds it (queued, or its holder died), the job ends at once.
CANCEL_IDLE_JOB = """
    UPDATE mail_import.jobs SET state = 'cancelled', lease_owner = NULL, lease_until = NULL, lease_host = NULL,
        interrupted = false, updated_at = now(), finished_at = now()
    WHERE id = %s AND state IN ('queued', 'running') AND (lease_until IS NULL OR lease_until < now())
    RETURNING account_id
"""

NEXT_FOLDER = """
    UPDATE mail_import.jobs SET folder_index = folder_index + 1, phase = 'reading', plan_uidvalidity = NULL,
        plan_uids = NULL, plan_top = NULL, scan_below = NULL, total = 0, remaining = 0, updated_at = now()
    WHERE id = %(job)s AND lease_owner = %(owner)s
"""

FINISH_JOB = """
    UPDATE mail_import.jobs SET state = %(state)s,
        phase = CASE WHEN %(state)s = 'done' THEN 'done' ELSE phase END,
        error = %(error)s, error_message = %(error_message)s,
        remaining = CASE WHEN %(state)s = 'done' THEN 0 ELSE remaining END,
        lease_owner = NULL, lease_until = NULL, lease_host = NULL, interrupted = false, updated_at = now(),
        finished_at = now()
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
        received_at, sender, recipients, text, size, html, attachment_count)
    VALUES %s
    ON CONFLICT DO NOTHING
    RETURNING id, uid
"""
INSERT_MESSAGES_TEMPLATE = "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s)"

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
    m.recipients, left(m.text, %(snippet)s) AS text, m.size, m.gone_at, m.html IS NOT NULL AS has_html,
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

# Full-text search over mail_import.message_search (filled by the indexer after the import commits): one
# configuration, 'russian', which stems Cyrillic words with the Russian stemmer and Latin ones with the English
# one; the query also in 'simple', as the addresses and names are stored unstemmed ('Ольга' is 'ольг' in
# 'russian'). Results are ranked (subject above addresses above text) among the account's newest
# %(candidates)s matches within the filters (web/search.py finds them in two steps, ranks them and pages),
# and only the page's rows are read from messages and highlighted.
_SEARCH_QUERY = "(websearch_to_tsquery('russian', %(q)s) || websearch_to_tsquery('simple', %(q)s))"
_SEARCH_FILTERS = """
    s.account_id = %(account)s
    AND (%(since)s::timestamptz IS NULL OR s.date >= %(since)s::timestamptz)
    AND (%(until)s::timestamptz IS NULL OR s.date < %(until)s::timestamptz)
    AND (NOT %(attachments)s OR s.has_attachments)
"""

# Step one: the newest %(window)s messages within the filters, newest first (the (account_id, date DESC,
# message_id DESC) index, or its has_attachments part), tested one by one; stops at %(candidates)s matches.
SEARCH_RECENT = """
    WITH q AS MATERIALIZED (SELECT """ + _SEARCH_QUERY + """ AS query)
    SELECT r.message_id, ts_rank_cd(r.search, (SELECT query FROM q)) AS rank
    FROM (
        SELECT s.message_id, s.date, s.search
        FROM mail_import.message_search s
        WHERE """ + _SEARCH_FILTERS + """
        ORDER BY s.date DESC, s.message_id DESC
        LIMIT %(window)s
    ) r
    -- q as a value, not joined: the walk's order is then the result's, and it stops at the last match needed.
    WHERE r.search @@ (SELECT query FROM q)
    ORDER BY r.date DESC, r.message_id DESC
    LIMIT %(candidates)s
"""

# When the window held too few matches: its last message (where step two carries on) and its newest date
# (how much time the window covered); no row when the window held every message within the filters.
SEARCH_WINDOW_EDGE = """
    SELECT e.message_id, e.date,
        (SELECT s.date FROM mail_import.message_search s WHERE """ + _SEARCH_FILTERS + """
         ORDER BY s.date DESC, s.message_id DESC LIMIT 1) AS newest
    FROM (
        SELECT s.message_id, s.date FROM mail_import.message_search s
        WHERE """ + _SEARCH_FILTERS + """
        ORDER BY s.date DESC, s.message_id DESC
        OFFSET %(window)s - 1 LIMIT 1
    ) e
"""

# Step two, when the window held too few matches: the GIN index, for messages older than the window's last
# row (in the window's order: date DESC puts undated messages first) and, when given, not older than
# %(lower)s: with that bound the planner ANDs the GIN bitmap with the date index's, so only the slice's
# matches are read from the table, not every match of a word common in old mail. "date + interval '0'"
# cannot be read from an index in order: no newest-first walk, which the window showed to be slow here.
SEARCH_OLDER = """
    WITH q AS MATERIALIZED (SELECT """ + _SEARCH_QUERY + """ AS query)
    SELECT s.message_id, ts_rank_cd(s.search, q.query) AS rank
    FROM mail_import.message_search s, q
    WHERE """ + _SEARCH_FILTERS + """
      -- The query written out, not q.query: the planner then knows how common the words are.
      AND s.search @@ """ + _SEARCH_QUERY + """
      AND CASE WHEN %(before_date)s::timestamptz IS NULL THEN s.date IS NOT NULL OR s.message_id < %(before_id)s
               ELSE s.date < %(before_date)s::timestamptz
                    OR (s.date = %(before_date)s::timestamptz AND s.message_id < %(before_id)s) END
      AND (%(before_date)s::timestamptz IS NULL OR s.date <= %(before_date)s::timestamptz)
      AND (%(lower)s::timestamptz IS NULL OR s.date >= %(lower)s::timestamptz)
    ORDER BY s.date + interval '0' DESC, s.message_id DESC
    LIMIT %(candidates)s
"""

# The page: the ranked ids given in order, their rows with the matches marked \x02 ... \x03 (segments in the
# caller, never HTML from SQL). 'russian' parses both languages as the index did.
SEARCH_PAGE = """
    WITH q AS MATERIALIZED (SELECT """ + _SEARCH_QUERY + """ AS query)
    SELECT """ + _MESSAGE_COLUMNS + """,
        ts_headline('russian', m.subject, q.query,
                    'HighlightAll=true, StartSel=' || chr(2) || ', StopSel=' || chr(3)) AS subject_marked,
        ts_headline('russian', left(m.text, 20000), q.query,
                    'MaxFragments=2, MaxWords=25, MinWords=8, FragmentDelimiter=" … ", StartSel=' || chr(2)
                    || ', StopSel=' || chr(3)) AS text_marked
    FROM unnest(%(ids)s::bigint[]) WITH ORDINALITY p(id, n)
    JOIN mail_import.messages m ON m.id = p.id AND m.account_id = %(account)s, q
    ORDER BY p.n
"""

SEARCH_TIMEOUT = "SELECT set_config('statement_timeout', %s, true)"

# ---- search index ------------------------------------------------------------------------------

# One indexing request's work for an account, serialised per account (a second request waits and then finds
# the rows stored: no vector is computed twice). The advisory lock is its own statement so that the INSERT,
# under READ COMMITTED, takes its snapshot after the lock and sees what the previous holder stored.
LOCK_ACCOUNT_INDEX = "SELECT pg_advisory_xact_lock(hashtext('mail_import.message_search'), hashtext(%s::text))"

# Up to %(limit)s messages of the account with id >= %(from_id)s and no search row yet, oldest first;
# returns how many were taken, the last id taken and how many were stored (ON CONFLICT: a redelivered
# request stores nothing twice). The vector is mail_import.search_document (migration 0104).
INDEX_MESSAGES = """
    WITH todo AS (
        SELECT m.id FROM mail_import.messages m
        WHERE m.account_id = %(account)s AND m.id >= %(from_id)s
          AND NOT EXISTS (SELECT 1 FROM mail_import.message_search s WHERE s.message_id = m.id)
        ORDER BY m.id
        LIMIT %(limit)s
    ),
    stored AS (
        INSERT INTO mail_import.message_search (message_id, account_id, date, has_attachments, search)
        SELECT m.id, m.account_id, COALESCE(m.sent_at, m.received_at), m.attachment_count > 0,
               mail_import.search_document(m.subject, m.sender, m.recipients, m.text)
        FROM todo JOIN mail_import.messages m ON m.id = todo.id
        ON CONFLICT (message_id) DO NOTHING
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM todo), (SELECT COALESCE(max(id), 0) FROM todo), (SELECT count(*) FROM stored)
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

# A push answered "gone" forgets the connection only once it is older than the grace (seconds): API Gateway answers
# GoneException to a push that comes while $connect is still running, and that page is about to be open.
FORGET_GONE_CONNECTION = """
    DELETE FROM mail_import.ws_connections
    WHERE connection_id = %s AND connected_at < now() - make_interval(secs => %s)
"""

CONNECTIONS = "SELECT connection_id FROM mail_import.ws_connections WHERE account_id = %s"

# ---- sync schedule -----------------------------------------------------------------------------

# Accounts due for an incremental import, claimed by moving their next sync one interval on (a second
# schedule run, or one overlapping this, skips them: SKIP LOCKED and the new next_sync_at).
CLAIM_DUE_ACCOUNTS = """
    UPDATE mail_import.accounts a SET next_sync_at = now() + make_interval(mins => a.sync_minutes)
    WHERE a.id IN (
        SELECT id FROM mail_import.accounts
        WHERE sync_minutes IS NOT NULL AND status <> 'auth_failed' AND next_sync_at <= now()
        ORDER BY next_sync_at
        LIMIT %(limit)s
        FOR UPDATE SKIP LOCKED)
    RETURNING a.id
"""

SET_PASSWORD = """
    UPDATE mail_import.accounts SET password_enc = %(password_enc)s,
        status = CASE WHEN status = 'auth_failed' THEN 'new' ELSE status END, updated_at = now()
    WHERE id = %(account)s
"""

SET_SYNC_INTERVAL = """
    UPDATE mail_import.accounts SET sync_minutes = %(minutes)s,
        next_sync_at = now() + make_interval(mins => COALESCE(%(minutes)s, 10)), updated_at = now()
    WHERE id = %(account)s
"""

# Active jobs nobody holds and nothing has touched for a long time: their queue message is gone (a
# restart of the local cloud, a message that went to the dead-letter queue). Claimed by touching them,
# so the next sweep leaves them alone while the re-queued chunk runs.
CLAIM_STRANDED_JOBS = """
    UPDATE mail_import.jobs SET updated_at = now()
    WHERE id IN (
        SELECT id FROM mail_import.jobs
        WHERE state IN ('queued', 'running') AND (lease_until IS NULL OR lease_until < now())
          AND updated_at < now() - make_interval(secs => %(stale_seconds)s)
        ORDER BY id
        LIMIT %(limit)s
        FOR UPDATE SKIP LOCKED)
    RETURNING id, chunks
"""

# Finished jobs whose last indexing request was never queued (jobs_index_pending), locked while the schedule
# queues their requests: one request per account, from the lowest message id any of them stored.
JOBS_NOT_INDEXED = """
    WITH pending AS (
        SELECT id, account_id, index_from FROM mail_import.jobs
        WHERE index_from IS NOT NULL AND state NOT IN ('queued', 'running')
        ORDER BY id
        LIMIT %(limit)s
        FOR UPDATE SKIP LOCKED)
    SELECT account_id, min(index_from), array_agg(id) FROM pending GROUP BY account_id ORDER BY account_id
"""

INDEXING_REQUESTED = "UPDATE mail_import.jobs SET index_from = NULL WHERE id = ANY(%(jobs)s)"

# ---- vanished messages -------------------------------------------------------------------------

# How many messages of a folder (under its UIDVALIDITY, up to the checkpoint) are stored and not gone.
PRESENT_COUNT = """
    SELECT count(*) FROM mail_import.messages
    WHERE account_id = %s AND folder = %s AND uidvalidity = %s AND uid <= %s AND gone_at IS NULL
"""

PRESENT_UIDS = """
    SELECT uid FROM mail_import.messages
    WHERE account_id = %s AND folder = %s AND uidvalidity = %s AND uid <= %s AND gone_at IS NULL
"""

MARK_GONE = """
    UPDATE mail_import.messages SET gone_at = now()
    WHERE account_id = %s AND folder = %s AND uidvalidity = %s AND uid = ANY(%s) AND gone_at IS NULL
"""

# ---- one message -------------------------------------------------------------------------------

MESSAGE = """
    SELECT id, folder, uidvalidity, uid, message_id, subject, sent_at, received_at, sender, recipients, text, html,
           size, gone_at
    FROM mail_import.messages WHERE id = %s AND account_id = %s
"""

MESSAGE_ATTACHMENTS = """
    SELECT id, filename, content_type, content_id, inline, size, storage_key
    FROM mail_import.attachments WHERE message_id = %s ORDER BY position
"""

# ---- attempts that prove a mailbox password, per client address (common.throttle.Gate) ----------
# The upsert creates or locks the key's row for the transaction, so parallel requests count one by one.
ATTEMPT_LOCK = """
INSERT INTO mail_import.sign_in_attempts AS a (key, attempts, last_attempt_at) VALUES (%(key)s, 0, %(now)s)
ON CONFLICT (key) DO UPDATE SET key = a.key
RETURNING attempts, last_attempt_at, locked_until"""
ATTEMPT_SAVE = """
UPDATE mail_import.sign_in_attempts
SET attempts = %(attempts)s, last_attempt_at = %(last_attempt_at)s, locked_until = %(locked_until)s
WHERE key = %(key)s"""
ATTEMPT_FORGET = "DELETE FROM mail_import.sign_in_attempts WHERE key = %(key)s"
# Run after each counted attempt (no schedule of its own): a bounded batch, never waiting for a locked row.
ATTEMPT_PURGE = """
DELETE FROM mail_import.sign_in_attempts WHERE key IN (
    SELECT key FROM mail_import.sign_in_attempts
    WHERE last_attempt_at < %(forget_before)s AND (locked_until IS NULL OR locked_until < %(now)s)
    ORDER BY last_attempt_at LIMIT 100 FOR UPDATE SKIP LOCKED)"""
