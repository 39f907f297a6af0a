-- mail_import: IMAP accounts, resumable import jobs, imported messages and their attachments.
CREATE SCHEMA IF NOT EXISTS mail_import;

CREATE TABLE mail_import.accounts (
    id            bigserial PRIMARY KEY,
    provider      text NOT NULL,
    host          text NOT NULL,
    port          integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
    use_ssl       boolean NOT NULL,
    login         text NOT NULL,
    password_enc  text NOT NULL,                 -- common.secretbox token, never the password itself
    token_digest  text NOT NULL UNIQUE,          -- common.passwords.api_key_digest of the access token
    folders       text[] NOT NULL DEFAULT '{}',  -- decoded names; empty: the \All folder or INBOX
    status        text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'importing', 'ok', 'error')),
    error         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Sync state: everything up to last_uid under this uidvalidity is imported (the checkpoint).
CREATE TABLE mail_import.folders (
    account_id   bigint NOT NULL REFERENCES mail_import.accounts ON DELETE CASCADE,
    name         text NOT NULL,
    uidvalidity  bigint NOT NULL,
    last_uid     bigint NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, name)
);

CREATE TABLE mail_import.jobs (
    id                bigserial PRIMARY KEY,
    account_id        bigint NOT NULL REFERENCES mail_import.accounts ON DELETE CASCADE,
    state             text NOT NULL DEFAULT 'queued'
                      CHECK (state IN ('queued', 'running', 'done', 'error', 'superseded')),
    folders           text[],                     -- resolved by the first chunk
    folder_index      integer NOT NULL DEFAULT 0,
    phase             text NOT NULL DEFAULT 'reading' CHECK (phase IN ('reading', 'receiving', 'done')),
    plan_uidvalidity  bigint,                     -- phase 1 result for folders[folder_index] ...
    plan_uids         bigint[],                   -- ... the UIDs to receive, ascending
    plan_top          bigint,                     -- ... and the checkpoint once they are all in
    scan_below        bigint,                     -- fallback scan cursor (UIDs below it are left to scan)
    checked           integer NOT NULL DEFAULT 0,
    total             integer NOT NULL DEFAULT 0,
    remaining         integer NOT NULL DEFAULT 0,
    imported          integer NOT NULL DEFAULT 0,
    chunks            integer NOT NULL DEFAULT 0,
    imap_commands     integer NOT NULL DEFAULT 0,
    error             text,
    lease_owner       uuid,
    lease_until       timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz
);
-- One import per account at a time.
CREATE UNIQUE INDEX jobs_one_active ON mail_import.jobs (account_id) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_account ON mail_import.jobs (account_id, id DESC);

CREATE TABLE mail_import.messages (
    id           bigserial PRIMARY KEY,
    account_id   bigint NOT NULL REFERENCES mail_import.accounts ON DELETE CASCADE,
    folder       text NOT NULL,
    uidvalidity  bigint NOT NULL,
    uid          bigint NOT NULL,
    message_id   text,
    subject      text NOT NULL DEFAULT '',
    sent_at      timestamptz,                     -- the Date header; null when missing or broken
    received_at  timestamptz,                     -- IMAP INTERNALDATE
    sender       text NOT NULL DEFAULT '',
    recipients   jsonb NOT NULL DEFAULT '{}',     -- {"to": [...], "cc": [...]}
    text         text COMPRESSION lz4 NOT NULL DEFAULT '',  -- lz4: far cheaper than pglz on bulk import
    size         integer NOT NULL,
    imported_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, folder, uidvalidity, uid)
);
-- A message already stored under the same Message-ID (another folder, an older UIDVALIDITY) is not stored again.
CREATE UNIQUE INDEX messages_account_message_id ON mail_import.messages (account_id, message_id)
    WHERE message_id IS NOT NULL;

CREATE TABLE mail_import.attachments (
    id            bigserial PRIMARY KEY,
    message_id    bigint NOT NULL REFERENCES mail_import.messages ON DELETE CASCADE,
    position      integer NOT NULL,
    filename      text,
    content_type  text NOT NULL,
    content_id    text,
    inline        boolean NOT NULL DEFAULT false,
    size          integer NOT NULL,
    storage_key   text NOT NULL,                  -- S3 key in ATTACHMENTS_BUCKET (content-addressed)
    UNIQUE (message_id, position)
);

CREATE TABLE mail_import.ws_connections (
    connection_id  text PRIMARY KEY,
    account_id     bigint NOT NULL REFERENCES mail_import.accounts ON DELETE CASCADE,
    connected_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ws_connections_account ON mail_import.ws_connections (account_id);
