-- mailbox: unread counts kept per folder, changed in the same transaction as the copies they count.
-- Counting unread copies at read time costs O(unread) heap visits (recent rows are rarely all-visible),
-- which made listing a much-mailed inbox slow; reading one counter row is constant time.
CREATE TABLE mailbox.folder_unread (
    mailbox_id bigint NOT NULL REFERENCES mailbox.mailboxes (id),
    folder     text NOT NULL CHECK (folder IN ('inbox', 'sent')),
    -- A negative count would mean a code path forgot a copy: fail loudly instead of drifting.
    unread     bigint NOT NULL CHECK (unread >= 0),
    PRIMARY KEY (mailbox_id, folder)
) WITH (fillfactor = 50);    -- room on each page for HOT updates of these frequently changed rows

INSERT INTO mailbox.folder_unread (mailbox_id, folder, unread)
SELECT mailbox_id, folder, count(*) FROM mailbox.copies WHERE NOT is_read GROUP BY mailbox_id, folder;
