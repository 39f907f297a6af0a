-- mailbox: mail storage. A letter's content is stored once; each mailbox that holds it (the
-- sender's sent folder, every recipient's inbox) gets a small "copy" row with its own read flag,
-- so sending to N recipients writes one letter plus N+1 narrow rows.
CREATE SCHEMA IF NOT EXISTS mailbox;

CREATE TABLE mailbox.mailboxes (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    address        text NOT NULL UNIQUE CHECK (address = lower(address) AND length(address) <= 254),
    -- SHA-256 hex of the API key: the key itself is shown once and never stored.
    api_key_digest text NOT NULL UNIQUE,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE mailbox.letters (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sender_id  bigint NOT NULL REFERENCES mailbox.mailboxes (id),
    recipients text[] NOT NULL,
    subject    text NOT NULL,
    body       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE mailbox.copies (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mailbox_id bigint NOT NULL REFERENCES mailbox.mailboxes (id),
    letter_id  bigint NOT NULL REFERENCES mailbox.letters (id),
    folder     text NOT NULL CHECK (folder IN ('inbox', 'sent')),
    is_read    boolean NOT NULL DEFAULT false,
    -- The letter's created_at, repeated here so a folder page is one index range scan.
    created_at timestamptz NOT NULL,
    UNIQUE (mailbox_id, folder, letter_id)
);

-- Folder listing, newest first, keyset-paginated on (created_at, id).
CREATE INDEX copies_folder_order ON mailbox.copies (mailbox_id, folder, created_at DESC, id DESC);
-- unread=true listing and the unread count (index-only scan) touch only unread copies.
CREATE INDEX copies_folder_unread ON mailbox.copies (mailbox_id, folder, created_at DESC, id DESC)
    WHERE NOT is_read;
-- Deleting a copy checks whether the letter has any copy left.
CREATE INDEX copies_letter ON mailbox.copies (letter_id);
