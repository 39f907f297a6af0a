-- notifications: clients, mailings, one message per (mailing, client), operators and their API tokens.
CREATE SCHEMA IF NOT EXISTS notifications;

CREATE TABLE notifications.operators (
    id            bigserial PRIMARY KEY,
    username      text NOT NULL UNIQUE CHECK (length(username) BETWEEN 1 AND 64),
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Only a digest of each token is kept: a stolen table grants nothing.
CREATE TABLE notifications.tokens (
    digest      text PRIMARY KEY,
    operator_id bigint NOT NULL REFERENCES notifications.operators (id) ON DELETE CASCADE,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX tokens_expires_idx ON notifications.tokens (expires_at);

CREATE TABLE notifications.clients (
    id            bigserial PRIMARY KEY,
    phone         text NOT NULL UNIQUE CHECK (phone ~ '^7[0-9]{10}$'),
    operator_code text NOT NULL CHECK (operator_code ~ '^[0-9]{3}$'),
    tag           text NOT NULL DEFAULT '' CHECK (length(tag) <= 64),
    timezone      text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (operator_code = substr(phone, 2, 3))
);
CREATE INDEX clients_operator_code_idx ON notifications.clients (operator_code);
CREATE INDEX clients_tag_idx ON notifications.clients (tag);

-- dispatch_state: pending (waiting for its start), dispatching (messages being created/queued under a
-- lease), done (every message created and queued). A lapsed lease means a dispatcher died: redo it.
CREATE TABLE notifications.mailings (
    id               bigserial PRIMARY KEY,
    start_at         timestamptz NOT NULL,
    end_at           timestamptz NOT NULL,
    text             text NOT NULL CHECK (length(text) BETWEEN 1 AND 2000),
    operator_codes   text[] NOT NULL DEFAULT '{}',
    tags             text[] NOT NULL DEFAULT '{}',
    window_start     time,
    window_end       time,
    dispatch_state   text NOT NULL DEFAULT 'pending' CHECK (dispatch_state IN ('pending', 'dispatching', 'done')),
    dispatch_lease   timestamptz,
    dispatched_at    timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (end_at > start_at),
    CHECK ((window_start IS NULL) = (window_end IS NULL) AND (window_start IS NULL OR window_start <> window_end))
);
CREATE INDEX mailings_due_idx ON notifications.mailings (start_at) WHERE dispatch_state <> 'done';

-- claimed_at/claim_id: a sender owns the message while it calls the provider (set before the call).
CREATE TABLE notifications.messages (
    id          bigserial PRIMARY KEY,
    created_at  timestamptz NOT NULL DEFAULT now(),
    status      text NOT NULL DEFAULT 'processing' CHECK (status IN ('processing', 'sent', 'error', 'expired')),
    mailing_id  bigint NOT NULL REFERENCES notifications.mailings (id) ON DELETE CASCADE,
    client_id   bigint NOT NULL REFERENCES notifications.clients (id) ON DELETE CASCADE,
    attempts    integer NOT NULL DEFAULT 0,
    last_error  text,
    sent_at     timestamptz,
    claimed_at  timestamptz,
    claim_id    uuid,
    UNIQUE (mailing_id, client_id)
);
CREATE INDEX messages_client_idx ON notifications.messages (client_id);
-- A mailing's messages page by page (keyset on id), however many other mailings there are.
CREATE INDEX messages_mailing_page_idx ON notifications.messages (mailing_id, id);

-- Counts by status per mailing, kept by statement-level triggers: the stats read a few rows, not
-- millions, and a bulk insert of 100,000 messages updates them once.
CREATE TABLE notifications.message_counts (
    mailing_id bigint NOT NULL REFERENCES notifications.mailings (id) ON DELETE CASCADE,
    status     text NOT NULL,
    n          bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (mailing_id, status)
);

CREATE FUNCTION notifications.count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO notifications.message_counts AS c (mailing_id, status, n)
    SELECT mailing_id, status, count(*) FROM new_rows GROUP BY mailing_id, status ORDER BY mailing_id, status
    ON CONFLICT (mailing_id, status) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END $$;

CREATE FUNCTION notifications.count_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Rows locked in key order, so two senders never deadlock on the same two counters.
    INSERT INTO notifications.message_counts AS c (mailing_id, status, n)
    SELECT mailing_id, status, sum(delta) FROM (
        SELECT o.mailing_id, o.status, -1 AS delta FROM old_rows o
        UNION ALL
        SELECT n.mailing_id, n.status, 1 FROM new_rows n
    ) changes GROUP BY mailing_id, status HAVING sum(delta) <> 0 ORDER BY mailing_id, status
    ON CONFLICT (mailing_id, status) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END $$;

CREATE FUNCTION notifications.count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE notifications.message_counts c SET n = c.n - d.k
    FROM (SELECT mailing_id, status, count(*) AS k FROM old_rows GROUP BY mailing_id, status) d
    WHERE c.mailing_id = d.mailing_id AND c.status = d.status;
    RETURN NULL;
END $$;

CREATE TRIGGER messages_counted_insert AFTER INSERT ON notifications.messages
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION notifications.count_inserted();
CREATE TRIGGER messages_counted_update AFTER UPDATE ON notifications.messages
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION notifications.count_updated();
CREATE TRIGGER messages_counted_delete AFTER DELETE ON notifications.messages
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION notifications.count_deleted();
