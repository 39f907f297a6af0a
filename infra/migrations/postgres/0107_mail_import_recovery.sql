-- Recovery from crashes in seconds (issue 28) and a per-IMAP-host cap on running chunks (issue 21.7).
--   failures:    chunk failures the import code itself saw (an exception it caught: bad data, a bug). Only these
--                count towards MAIL_IMPORT_MAX_ATTEMPTS; a killed, timed-out or out-of-memory worker sees nothing
--                and spends nothing, so a job never fails because its workers were killed.
--   interrupted: a chunk of the job died or failed and its retry has not committed yet: the page says
--                "retrying after an interruption" instead of a progress that does not move.
--   lease_host:  the IMAP host the lease holder talks to, counted by the per-host cap while the lease runs.
ALTER TABLE mail_import.jobs
    ADD COLUMN IF NOT EXISTS failures integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS interrupted boolean NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS lease_host text;

-- Only leased jobs (a few per host at a time), so counting a host's running chunks stays cheap.
CREATE INDEX IF NOT EXISTS jobs_leased_host ON mail_import.jobs (lease_host) WHERE lease_owner IS NOT NULL;
