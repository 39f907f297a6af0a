-- mail_import: a failure's message id and values beside its English text, so pages can show it in the
-- reader's language (error stays the English text the JSON API returns).
ALTER TABLE mail_import.accounts ADD COLUMN IF NOT EXISTS error_message jsonb;
ALTER TABLE mail_import.jobs ADD COLUMN IF NOT EXISTS error_message jsonb;
