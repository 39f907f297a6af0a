-- mail_import: deleting a mailbox with everything it holds (issue 22). The request marks the account (no route
-- opens it any more, its password and schedule are gone at once) and queues the deletion, which removes the
-- attachments' S3 objects, then the messages in bounded batches, then the account: every step can run again,
-- so a deletion killed half-way resumes when its message comes back (or the sync schedule queues it again).
ALTER TABLE mail_import.accounts ADD COLUMN deleting_at timestamptz;
CREATE INDEX accounts_deleting ON mail_import.accounts (deleting_at) WHERE deleting_at IS NOT NULL;
