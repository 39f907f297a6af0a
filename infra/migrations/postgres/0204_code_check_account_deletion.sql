-- code_check: deleting an account with everything it has (issue 22). Set when the owner asks; from then on
-- its sessions and tokens are void, no report is e-mailed and no version is checked, while the deletions queue
-- removes its S3 objects and rows step by step (accounts/deletion.py); the row itself goes last.
ALTER TABLE code_check.users ADD COLUMN deleting_at timestamptz;
CREATE INDEX users_deleting ON code_check.users (deleting_at) WHERE deleting_at IS NOT NULL;
