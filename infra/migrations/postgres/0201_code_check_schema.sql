-- code_check: users, sessions, API tokens, uploaded files with versions, flake8 checks and their e-mails.
CREATE SCHEMA IF NOT EXISTS code_check;

CREATE TABLE code_check.users (
    id            bigserial PRIMARY KEY,
    email         text NOT NULL,
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON code_check.users (lower(email));

-- Only a digest of the cookie value is stored: a leaked table opens no session.
CREATE TABLE code_check.sessions (
    digest     text PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES code_check.users (id) ON DELETE CASCADE,
    csrf       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user ON code_check.sessions (user_id);

-- One row per failed login, keyed "account:<email>" and "address:<ip>"; old rows are pruned on write.
CREATE TABLE code_check.login_failures (
    id        bigserial PRIMARY KEY,
    key       text NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_key ON code_check.login_failures (key, failed_at);

CREATE TABLE code_check.api_tokens (
    id         bigserial PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES code_check.users (id) ON DELETE CASCADE,
    name       text NOT NULL,
    digest     text NOT NULL UNIQUE,
    hint       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at    timestamptz,
    revoked_at timestamptz
);
CREATE INDEX api_tokens_user ON code_check.api_tokens (user_id);

CREATE TABLE code_check.files (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES code_check.users (id) ON DELETE CASCADE,
    name        text NOT NULL,
    status      text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'overwritten', 'deleted')),
    badge_key   text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);
-- A deleted file keeps its name and history; the same name may then be uploaded as a new file.
CREATE UNIQUE INDEX files_live_name ON code_check.files (user_id, name) WHERE status <> 'deleted';
CREATE INDEX files_user ON code_check.files (user_id, id);

CREATE TABLE code_check.versions (
    id            bigserial PRIMARY KEY,
    file_id       bigint NOT NULL REFERENCES code_check.files (id) ON DELETE CASCADE,
    number        integer NOT NULL,
    s3_key        text NOT NULL,
    s3_version_id text,
    sha256        text NOT NULL,
    size          integer NOT NULL,
    line_count    integer NOT NULL,
    uploaded_at   timestamptz NOT NULL DEFAULT now(),
    -- Set by the checker when a check of this version succeeded; NULL = still to check.
    checked_at    timestamptz,
    UNIQUE (file_id, number)
);
CREATE INDEX versions_unchecked ON code_check.versions (id) WHERE checked_at IS NULL;

CREATE TABLE code_check.checks (
    id               bigserial PRIMARY KEY,
    version_id       bigint NOT NULL REFERENCES code_check.versions (id) ON DELETE CASCADE,
    started_at       timestamptz NOT NULL,
    finished_at      timestamptz NOT NULL,
    outcome          text NOT NULL CHECK (outcome IN ('ok', 'problems', 'error')),
    problem_count    integer NOT NULL DEFAULT 0,
    error            text,
    options          jsonb NOT NULL,
    -- The e-mail report: pending -> claimed (before the SES call) -> sent; 'none' for failed checks.
    email_state      text NOT NULL DEFAULT 'pending' CHECK (email_state IN ('pending', 'claimed', 'sent', 'none')),
    email_enqueued_at timestamptz,
    email_claimed_at timestamptz,
    email_sent_at    timestamptz,
    email_message_id text,
    email_attempts   integer NOT NULL DEFAULT 0,
    email_error      text
);
CREATE INDEX checks_version ON code_check.checks (version_id, id);
CREATE INDEX checks_unqueued ON code_check.checks (id) WHERE email_state = 'pending' AND email_enqueued_at IS NULL;

CREATE TABLE code_check.violations (
    id          bigserial PRIMARY KEY,
    check_id    bigint NOT NULL REFERENCES code_check.checks (id) ON DELETE CASCADE,
    code        text NOT NULL,
    line        integer NOT NULL,
    col         integer NOT NULL,
    message     text NOT NULL,
    source_line text NOT NULL DEFAULT ''
);
CREATE INDEX violations_check ON code_check.violations (check_id, line, col);
