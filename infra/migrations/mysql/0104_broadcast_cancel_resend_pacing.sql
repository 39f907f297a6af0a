-- broadcast: cancelling, sending again and pacing (issue 23). Safe to re-run (IF NOT EXISTS; MODIFY is idempotent).
-- pacing: 'spread' (each message its own random delay from the post) or 'serial' (one at a time, a random gap
-- after the previous one: delay_seconds is then the cumulative offset from queued_at, hours for a long list).
-- pace_nonce: the one live pacing tick of a serial broadcast (chalicelib/pacing.py); NULL when none is needed.
-- cancelled_at: set by the operator's cancel; the sender re-checks it before each ChatApp call.
-- parent_id: the broadcast this one sends again (unique: one click, one new broadcast, even clicked twice).
ALTER TABLE broadcasts
    ADD COLUMN IF NOT EXISTS pacing VARCHAR(8) NOT NULL DEFAULT 'spread',
    ADD COLUMN IF NOT EXISTS pace_nonce CHAR(32) NULL,
    ADD COLUMN IF NOT EXISTS cancelled_at DATETIME(3) NULL,
    ADD COLUMN IF NOT EXISTS parent_id BIGINT UNSIGNED NULL,
    ADD UNIQUE KEY IF NOT EXISTS broadcasts_parent (parent_id);

ALTER TABLE broadcast_recipients MODIFY delay_seconds INT UNSIGNED NOT NULL;
