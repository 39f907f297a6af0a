-- code_check hardening: bounded check attempts with a final "could not be checked", confirmed e-mail
-- addresses, single-use links, per-address registration counting, e-mails skipped for a reason.

-- A version whose check failed this many times in a row gets a final outcome instead of another try.
ALTER TABLE code_check.versions ADD COLUMN check_attempts integer NOT NULL DEFAULT 0;
ALTER TABLE code_check.versions ADD COLUMN given_up_at timestamptz;
DROP INDEX code_check.versions_unchecked;
CREATE INDEX versions_unchecked ON code_check.versions (id) WHERE checked_at IS NULL AND given_up_at IS NULL;

-- 'failed': the final outcome of a version that could not be checked (error holds the reason).
ALTER TABLE code_check.checks DROP CONSTRAINT checks_outcome_check;
ALTER TABLE code_check.checks ADD CONSTRAINT checks_outcome_check
    CHECK (outcome IN ('ok', 'problems', 'error', 'failed'));
-- 'skipped': no e-mail was sent on purpose (address not confirmed, daily cap); email_error says which.
ALTER TABLE code_check.checks DROP CONSTRAINT checks_email_state_check;
ALTER TABLE code_check.checks ADD CONSTRAINT checks_email_state_check
    CHECK (email_state IN ('pending', 'claimed', 'sent', 'none', 'skipped'));
-- The daily cap counts an account's sent e-mails.
CREATE INDEX checks_email_sent ON code_check.checks (email_sent_at) WHERE email_sent_at IS NOT NULL;

-- No report e-mail goes to an address before its owner opened the confirmation link sent to it.
ALTER TABLE code_check.users ADD COLUMN confirmed_at timestamptz;
-- Confirmation links sent (at registration and on request), bounded: see accounts/confirmation.py.
ALTER TABLE code_check.users ADD COLUMN confirmation_sent_at timestamptz;
ALTER TABLE code_check.users ADD COLUMN confirmations_sent integer NOT NULL DEFAULT 0;
-- The client address a registration came from: registrations are limited per address and hour.
ALTER TABLE code_check.users ADD COLUMN registered_from text;
CREATE INDEX users_registered_from ON code_check.users (registered_from, created_at);

-- Signed links (common.signed_links) are single-use: the digest of each one opened is kept.
CREATE TABLE code_check.used_links (
    digest  text PRIMARY KEY,
    used_at timestamptz NOT NULL DEFAULT now()
);
