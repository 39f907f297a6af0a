-- broadcast: named contact lists (numbers saved once, a broadcast sent to a list, each list's history).
-- Safe to re-run (IF NOT EXISTS).
CREATE TABLE IF NOT EXISTS contact_lists (
    id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    created_at DATETIME(3) NOT NULL,
    UNIQUE KEY contact_lists_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per number of a list (E.164 digits, as broadcast_recipients.phone); raw: what the operator typed.
CREATE TABLE IF NOT EXISTS contact_list_numbers (
    id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    list_id BIGINT UNSIGNED NOT NULL,
    phone VARCHAR(15) NOT NULL,
    raw VARCHAR(100) NOT NULL,
    added_at DATETIME(3) NOT NULL,
    UNIQUE KEY contact_list_numbers_phone (list_id, phone),
    CONSTRAINT contact_list_numbers_list FOREIGN KEY (list_id) REFERENCES contact_lists (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The list a broadcast was sent to (its history); kept when the list is deleted.
ALTER TABLE broadcasts
    ADD COLUMN IF NOT EXISTS list_id BIGINT UNSIGNED NULL,
    ADD KEY IF NOT EXISTS broadcasts_list (list_id, id);
