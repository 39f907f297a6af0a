-- broadcast: failed sign-ins per client address, shared by every instance of the site, so a guesser is
-- slowed down however many Lambda instances answer it (common.throttle decides how long locked_until is).
-- Safe to re-run.
CREATE TABLE IF NOT EXISTS login_failures (
    client VARCHAR(45) NOT NULL PRIMARY KEY,
    failures INT UNSIGNED NOT NULL,
    last_failure_at DATETIME(3) NOT NULL,
    locked_until DATETIME(3) NULL,
    KEY login_failures_last (last_failure_at)
) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;
