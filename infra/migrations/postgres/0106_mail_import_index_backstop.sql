-- A job's index_from is cleared once its last indexing request is queued. A finished job that still has one
-- could not queue it (it was failing already, and SQS too): the sync schedule queues it (indexer.request_missed).
-- The partial index holds only those, so the schedule's look-up stays cheap however many jobs there are.
CREATE INDEX IF NOT EXISTS jobs_index_pending ON mail_import.jobs (id)
    WHERE index_from IS NOT NULL AND state NOT IN ('queued', 'running');
