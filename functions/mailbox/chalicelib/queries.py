"""Every SQL statement of the mailbox product; values are always passed as parameters."""

# ---- mailboxes ---------------------------------------------------------------------------------

CREATE_MAILBOX = """
    INSERT INTO mailbox.mailboxes (address, api_key_digest) VALUES (%s, %s)
    ON CONFLICT (address) DO NOTHING
    RETURNING id
"""

SET_KEY_DIGEST = "UPDATE mailbox.mailboxes SET api_key_digest = %s WHERE address = %s RETURNING id"

MAILBOX_BY_KEY_DIGEST = "SELECT id, address FROM mailbox.mailboxes WHERE api_key_digest = %s"

MAILBOXES_BY_ADDRESSES = "SELECT id, address FROM mailbox.mailboxes WHERE address = ANY(%s)"

# ---- sending -----------------------------------------------------------------------------------

INSERT_LETTER = """
    INSERT INTO mailbox.letters (sender_id, recipients, subject, body) VALUES (%s, %s, %s, %s)
    RETURNING id, created_at
"""

# The sender's copy starts read: one has read what one wrote.
INSERT_SENT_COPY = """
    INSERT INTO mailbox.copies (mailbox_id, letter_id, folder, is_read, created_at)
    VALUES (%s, %s, 'sent', true, %s)
    RETURNING id
"""

INSERT_INBOX_COPIES = """
    INSERT INTO mailbox.copies (mailbox_id, letter_id, folder, is_read, created_at)
    SELECT recipient, %(letter)s, 'inbox', false, %(created_at)s FROM unnest(%(recipients)s::bigint[]) AS recipient
"""

# Recipients in ascending id order: concurrent sends then lock shared counters in the same order
# and cannot deadlock.
ADD_INBOX_UNREAD = """
    INSERT INTO mailbox.folder_unread AS f (mailbox_id, folder, unread)
    SELECT recipient, 'inbox', 1 FROM unnest(%(recipients)s::bigint[]) AS recipient ORDER BY recipient
    ON CONFLICT (mailbox_id, folder) DO UPDATE SET unread = f.unread + 1
"""

# ---- reading -----------------------------------------------------------------------------------

_LETTER_COLUMNS = """
    c.id, c.folder, c.is_read, c.created_at, sender.address AS sender, l.recipients, l.subject
"""

_FROM_COPIES = """
    FROM mailbox.copies c
    JOIN mailbox.letters l ON l.id = c.letter_id
    JOIN mailbox.mailboxes sender ON sender.id = l.sender_id
"""

# A page of a folder, newest first, strictly after the cursor's (created_at, id) position (the
# first page starts at +infinity). The row comparison matches copies_folder_order, so any page,
# however deep, is one index range scan.
_PAGE_HEAD = "SELECT" + _LETTER_COLUMNS + ", left(l.body, %(snippet)s) AS snippet" + _FROM_COPIES + """
    WHERE c.mailbox_id = %(mailbox)s AND c.folder = %(folder)s
      AND (c.created_at, c.id) < (%(after_created_at)s::timestamptz, %(after_id)s::bigint)
"""

_PAGE_TAIL = """
    ORDER BY c.created_at DESC, c.id DESC
    LIMIT %(limit)s
"""

LIST_FOLDER = _PAGE_HEAD + _PAGE_TAIL

# The same restricted to unread copies; the predicate matches the partial index copies_folder_unread.
LIST_FOLDER_UNREAD = _PAGE_HEAD + "      AND NOT c.is_read" + _PAGE_TAIL

UNREAD_COUNT = "SELECT unread FROM mailbox.folder_unread WHERE mailbox_id = %s AND folder = %s"

GET_LETTER = "SELECT" + _LETTER_COLUMNS + ", l.body" + _FROM_COPIES + """
    WHERE c.id = %(id)s AND c.mailbox_id = %(mailbox)s
"""

# ---- changing ----------------------------------------------------------------------------------

# Returns a row only when the flag really changes, which is when the folder's counter moves.
SET_READ = """
    UPDATE mailbox.copies SET is_read = %(read)s
    WHERE id = %(id)s AND mailbox_id = %(mailbox)s AND is_read <> %(read)s
    RETURNING folder
"""

# (The CHECK on unread is evaluated before ON CONFLICT, so decrements can't share this upsert.)
INCREMENT_UNREAD = """
    INSERT INTO mailbox.folder_unread AS f (mailbox_id, folder, unread) VALUES (%s, %s, 1)
    ON CONFLICT (mailbox_id, folder) DO UPDATE SET unread = f.unread + 1
"""

DECREMENT_UNREAD = "UPDATE mailbox.folder_unread SET unread = unread - 1 WHERE mailbox_id = %s AND folder = %s"

# Lock the letter before removing a copy so that two owners deleting the last two copies at once
# run one after the other, and the second sees no copy left and removes the content.
LOCK_LETTER_OF_COPY = """
    SELECT l.id FROM mailbox.copies c JOIN mailbox.letters l ON l.id = c.letter_id
    WHERE c.id = %(id)s AND c.mailbox_id = %(mailbox)s
    FOR UPDATE OF l
"""

DELETE_COPY = """
    DELETE FROM mailbox.copies WHERE id = %(id)s AND mailbox_id = %(mailbox)s
    RETURNING folder, is_read
"""

DELETE_LETTER_IF_UNREFERENCED = """
    DELETE FROM mailbox.letters l
    WHERE l.id = %(letter)s AND NOT EXISTS (SELECT 1 FROM mailbox.copies c WHERE c.letter_id = %(letter)s)
"""

# ---- bulk load (fake data) ---------------------------------------------------------------------

INSERT_MAILBOXES_RETURNING = """
    INSERT INTO mailbox.mailboxes (address, api_key_digest) VALUES %s
    ON CONFLICT (address) DO NOTHING
    RETURNING id, address
"""

COPY_LETTERS = "COPY mailbox.letters (id, sender_id, recipients, subject, body, created_at) FROM STDIN"

COPY_COPIES = "COPY mailbox.copies (mailbox_id, letter_id, folder, is_read, created_at) FROM STDIN"

ADD_UNREAD = """
    INSERT INTO mailbox.folder_unread AS f (mailbox_id, folder, unread) VALUES %s
    ON CONFLICT (mailbox_id, folder) DO UPDATE SET unread = f.unread + EXCLUDED.unread
"""

ALL_MAILBOXES = "SELECT id, address FROM mailbox.mailboxes ORDER BY id"

# Reserve a block of letter ids so bulk-loaded rows can reference their letters without RETURNING.
RESERVE_LETTER_IDS = "SELECT nextval(pg_get_serial_sequence('mailbox.letters', 'id')) FROM generate_series(1, %s)"

COUNT_LETTERS = "SELECT count(*) FROM mailbox.letters"

VACUUM_ANALYZE = "VACUUM (ANALYZE) mailbox.mailboxes, mailbox.letters, mailbox.copies, mailbox.folder_unread"
