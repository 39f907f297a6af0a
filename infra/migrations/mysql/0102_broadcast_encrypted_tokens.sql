-- broadcast: the ChatApp tokens are stored encrypted (Fernet, common.secretbox), which makes them about
-- 1.4x longer plus 57 bytes: room for tokens of up to about 1,400 characters. Plaintext rows written
-- before are encrypted by the application on its next renewal or maintenance run. Safe to re-run.
ALTER TABLE chatapp_tokens MODIFY access_token VARCHAR(2048) NULL, MODIFY refresh_token VARCHAR(2048) NULL;
