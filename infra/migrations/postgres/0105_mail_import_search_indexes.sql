-- mail_import search: the "has attachments" filter walks only the messages that have some, newest first
-- (web/search.py tests the newest messages within the filters one by one before it asks the GIN index).
-- A tenth of a mailbox or so: the walk for a common word then reads attachment rows only.
CREATE INDEX IF NOT EXISTS message_search_account_attachments_date
    ON mail_import.message_search (account_id, date DESC, message_id DESC) WHERE has_attachments;
