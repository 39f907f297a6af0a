-- code_check: sign-in attempts reserved before the password is checked (common.throttle): one row per key
-- (account + client address, or the address alone), locked while an attempt is counted, so parallel
-- guesses cannot all read the same count. Replaces login_failures (a row per failure, counted after argon2).
CREATE TABLE code_check.sign_in_attempts (
    key             text PRIMARY KEY,
    attempts        integer NOT NULL,
    last_attempt_at timestamptz NOT NULL,
    locked_until    timestamptz
);
CREATE INDEX sign_in_attempts_last ON code_check.sign_in_attempts (last_attempt_at);
DROP TABLE code_check.login_failures;
