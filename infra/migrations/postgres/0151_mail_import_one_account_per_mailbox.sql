-- mail_import: one account per mailbox (issue 22). Adding a mailbox that is already here (same host, same
-- login, case-insensitive) after proving its password again gives that browser a token of its own for the
-- existing account instead of a second account: the account's first token stays in accounts.token_digest,
-- later ones are rows here. The lookup of an existing mailbox uses the expression index.
CREATE TABLE mail_import.account_tokens (
    account_id    bigint NOT NULL REFERENCES mail_import.accounts ON DELETE CASCADE,
    token_digest  text NOT NULL,                 -- common.passwords.api_key_digest of the access token
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, token_digest)
);
CREATE INDEX accounts_mailbox ON mail_import.accounts (lower(host), lower(login));
