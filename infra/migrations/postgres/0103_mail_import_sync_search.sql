-- mail_import, second step: accounts kept in sync, messages gone from the server marked, the HTML part
-- kept, full-text search in Russian and English.

-- Sync interval in minutes; NULL means automatic sync is off. next_sync_at is when the schedule queues
-- the next incremental import. An account whose password stopped working ('auth_failed') is skipped
-- until a login succeeds again.
ALTER TABLE mail_import.accounts
    ADD COLUMN IF NOT EXISTS sync_minutes integer DEFAULT 10 CHECK (sync_minutes BETWEEN 1 AND 10080),
    ADD COLUMN IF NOT EXISTS next_sync_at timestamptz NOT NULL DEFAULT now() + interval '10 minutes';
ALTER TABLE mail_import.accounts DROP CONSTRAINT IF EXISTS accounts_status_check;
ALTER TABLE mail_import.accounts ADD CONSTRAINT accounts_status_check
    CHECK (status IN ('new', 'importing', 'ok', 'error', 'auth_failed'));
CREATE INDEX IF NOT EXISTS accounts_due ON mail_import.accounts (next_sync_at)
    WHERE sync_minutes IS NOT NULL AND status <> 'auth_failed';

-- html: the HTML part as received (sanitised when shown). gone_at: when a sync found the message no
-- longer on the server (it stays here). attachment_count: for the "has attachments" filter without a join.
ALTER TABLE mail_import.messages
    ADD COLUMN IF NOT EXISTS html text COMPRESSION lz4,
    ADD COLUMN IF NOT EXISTS gone_at timestamptz,
    ADD COLUMN IF NOT EXISTS attachment_count integer NOT NULL DEFAULT 0;
UPDATE mail_import.messages m SET attachment_count = a.n
FROM (SELECT message_id, count(*) AS n FROM mail_import.attachments GROUP BY message_id) a
WHERE a.message_id = m.id AND m.attachment_count <> a.n;

-- Both configurations: Russian stems Cyrillic word forms (отчёт, отчёта -> отчет), English stems Latin
-- ones; a query is matched in either. Sender and recipients are addresses and names: no stemming.
-- The text is cut at 200,000 characters (a tsvector holds at most 1 MB).
ALTER TABLE mail_import.messages ADD COLUMN IF NOT EXISTS search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('russian'::regconfig, subject), 'A')
    || setweight(to_tsvector('english'::regconfig, subject), 'A')
    || setweight(to_tsvector('simple'::regconfig, sender || ' ' || (recipients -> 'to')::text || ' '
                             || (recipients -> 'cc')::text), 'B')
    || to_tsvector('russian'::regconfig, left(text, 200000))
    || to_tsvector('english'::regconfig, left(text, 200000))
) STORED;
CREATE INDEX IF NOT EXISTS messages_search ON mail_import.messages USING gin (search);
-- Newest first within an account (paging and ranking ties).
CREATE INDEX IF NOT EXISTS messages_account_id ON mail_import.messages (account_id, id);
