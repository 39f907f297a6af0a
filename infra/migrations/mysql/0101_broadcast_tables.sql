-- broadcast: broadcasts, one row per recipient with its delivery fate, and the ChatApp tokens.
-- Times are UTC, written by the application. Safe to re-run (MySQL DDL commits implicitly).

CREATE TABLE IF NOT EXISTS broadcasts (
    id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    text TEXT NOT NULL,
    recipient_count INT UNSIGNED NOT NULL,
    duplicates_dropped INT UNSIGNED NOT NULL DEFAULT 0,
    created_at DATETIME(3) NOT NULL,
    KEY broadcasts_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- status: queued -> sending -> sent | not_sent | unknown; then delivered / read / failed from webhooks.
-- enqueued_at: when its own SQS message (with delay_seconds) was accepted by SQS.
CREATE TABLE IF NOT EXISTS broadcast_recipients (
    id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    broadcast_id BIGINT UNSIGNED NOT NULL,
    line_no INT UNSIGNED NOT NULL,
    raw VARCHAR(100) NOT NULL,
    phone VARCHAR(15) NOT NULL,
    delay_seconds SMALLINT UNSIGNED NOT NULL,
    status VARCHAR(16) NOT NULL DEFAULT 'queued',
    attempts SMALLINT UNSIGNED NOT NULL DEFAULT 0,
    message_id VARCHAR(64) NULL,
    error_code VARCHAR(100) NULL,
    error_message VARCHAR(1000) NULL,
    queued_at DATETIME(3) NOT NULL,
    enqueued_at DATETIME(3) NULL,
    sending_at DATETIME(3) NULL,
    sent_at DATETIME(3) NULL,
    not_sent_at DATETIME(3) NULL,
    delivered_at DATETIME(3) NULL,
    read_at DATETIME(3) NULL,
    failed_at DATETIME(3) NULL,
    updated_at DATETIME(3) NOT NULL,
    UNIQUE KEY recipients_broadcast_phone (broadcast_id, phone),
    KEY recipients_broadcast_status (broadcast_id, status),
    KEY recipients_message (message_id),
    KEY recipients_stranded (status, enqueued_at, queued_at),
    CONSTRAINT recipients_broadcast FOREIGN KEY (broadcast_id) REFERENCES broadcasts (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row (id = 1): the ChatApp token pair. Renewals lock it (SELECT ... FOR UPDATE) so that
-- concurrent senders never obtain two pairs. callback_digest: SHA-256 of the registered callback URL.
CREATE TABLE IF NOT EXISTS chatapp_tokens (
    id TINYINT UNSIGNED PRIMARY KEY,
    access_token VARCHAR(512) NULL,
    access_issued_at BIGINT NULL,
    access_expires_at BIGINT NULL,
    refresh_token VARCHAR(512) NULL,
    refresh_expires_at BIGINT NULL,
    obtained_at DATETIME(3) NULL,
    refreshed_at DATETIME(3) NULL,
    callback_digest CHAR(64) NULL,
    callback_registered_at DATETIME(3) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT IGNORE INTO chatapp_tokens (id) VALUES (1);
