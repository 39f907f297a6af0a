-- code_check: the account's whole life (issue 22): a new e-mail address waiting for its link, the reader's
-- language for report e-mails.

-- Set when the owner asks to change the address; it becomes `email` only when the link sent to it is opened.
-- Until then reports keep going to `email`.
ALTER TABLE code_check.users ADD COLUMN pending_email text;
-- The language remembered at registration (the browser's Accept-Language): 'ru' or 'en'. NULL for accounts
-- registered before: their e-mails stay in both languages.
ALTER TABLE code_check.users ADD COLUMN language text CHECK (language IN ('ru', 'en'));
