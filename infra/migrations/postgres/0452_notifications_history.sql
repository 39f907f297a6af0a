-- notifications: history survives deletion. A deleted client or mailing is marked (deleted_at), not removed,
-- so its messages and counts stay in the statistics ("deleted client" / "deleted mailing"). A deleted client's
-- phone may be added again: it is unique among the clients not deleted only.
ALTER TABLE notifications.clients ADD COLUMN deleted_at timestamptz;
ALTER TABLE notifications.clients DROP CONSTRAINT clients_phone_key;
CREATE UNIQUE INDEX clients_live_phone_idx ON notifications.clients (phone) WHERE deleted_at IS NULL;
ALTER TABLE notifications.mailings ADD COLUMN deleted_at timestamptz;
