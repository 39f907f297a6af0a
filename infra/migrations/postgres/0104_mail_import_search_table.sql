-- mail_import: the search vectors move out of mail_import.messages into their own table, filled after the
-- import's commit (engine/indexer.py) instead of inside it: the import no longer waits for text search.
--
-- One configuration: PostgreSQL's 'russian' maps Latin words (asciiword, asciihword) to english_stem and
-- Cyrillic ones to russian_stem, so it stems both languages ('reports' -> 'report', 'отчёта' -> 'отчет');
-- the 'english' half the generated column also computed was redundant. Sender and recipients are addresses
-- and names: no stemming ('simple'). The text is cut at 200,000 characters (a tsvector holds at most 1 MB).
-- concat_ws skips a missing to/cc (|| would make the whole vector NULL).
-- date and has_attachments are copied here so a search filters without touching messages.
CREATE TABLE IF NOT EXISTS mail_import.message_search (
    message_id      bigint PRIMARY KEY REFERENCES mail_import.messages (id) ON DELETE CASCADE,
    account_id      bigint NOT NULL,
    date            timestamptz,                 -- COALESCE(sent_at, received_at)
    has_attachments boolean NOT NULL,
    search          tsvector NOT NULL
);
CREATE INDEX IF NOT EXISTS message_search_search ON mail_import.message_search USING gin (search);
CREATE INDEX IF NOT EXISTS message_search_account_date
    ON mail_import.message_search (account_id, date DESC, message_id DESC);

-- The one definition of a message's search vector: this fill and the indexer (queries.INDEX_MESSAGES) both
-- call it. A simple SQL function: the planner inlines it.
CREATE OR REPLACE FUNCTION mail_import.search_document(subject text, sender text, recipients jsonb, body text)
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector('russian'::regconfig, subject), 'A')
           || setweight(to_tsvector('simple'::regconfig,
                                    concat_ws(' ', sender, recipients -> 'to', recipients -> 'cc')), 'B')
           || to_tsvector('russian'::regconfig, left(body, 200000))
$$;

INSERT INTO mail_import.message_search (message_id, account_id, date, has_attachments, search)
SELECT m.id, m.account_id, COALESCE(m.sent_at, m.received_at), m.attachment_count > 0,
       mail_import.search_document(m.subject, m.sender, m.recipients, m.text)
FROM mail_import.messages m
ON CONFLICT (message_id) DO NOTHING;

DROP INDEX IF EXISTS mail_import.messages_search;
ALTER TABLE mail_import.messages DROP COLUMN IF EXISTS search;

-- The lowest message id a job stored: its last chunk asks the indexer to cover everything from there, so a
-- lost intermediate request (a crash between a commit and the send) cannot leave a message unindexed.
ALTER TABLE mail_import.jobs ADD COLUMN IF NOT EXISTS index_from bigint;
