-- mail_import: cancelling a running import from its page (issue 22). The request is a flag the chunk holding the
-- job reads with every batch it commits (it then stops between batches: nothing half-stored) and at its start; a
-- job no chunk holds is cancelled at once. A cancelled job is not active: the next import resumes from the
-- folders' checkpoints.
ALTER TABLE mail_import.jobs DROP CONSTRAINT IF EXISTS jobs_state_check;
ALTER TABLE mail_import.jobs ADD CONSTRAINT jobs_state_check
    CHECK (state IN ('queued', 'running', 'done', 'error', 'superseded', 'cancelled'));
ALTER TABLE mail_import.jobs ADD COLUMN cancel_requested boolean NOT NULL DEFAULT false;
