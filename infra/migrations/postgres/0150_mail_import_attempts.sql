-- mail_import: anonymous actions that make the platform prove a mailbox password (account creation, a new
-- password) counted per client address before they run (common.throttle), so the service is no open
-- login tester for the preset providers. One row per key, locked while an attempt is counted.
CREATE TABLE mail_import.sign_in_attempts (
    key             text PRIMARY KEY,
    attempts        integer NOT NULL,
    last_attempt_at timestamptz NOT NULL,
    locked_until    timestamptz
);
CREATE INDEX sign_in_attempts_last ON mail_import.sign_in_attempts (last_attempt_at);
