-- odoo-connect state store, SQLite schema version 2: quarantined rows, retention.

-- The stored bytes of a queue row that could not be decoded.
ALTER TABLE oc_dead_letters ADD COLUMN raw BLOB;

-- Finished rows, for retention.
CREATE INDEX oc_queue_finished ON oc_queue (finished_at) WHERE status <> 0;

-- The audit log stays append-only, except inside a purge: the purge's transaction holds a row
-- here while it deletes (no other connection sees it).
CREATE TABLE oc_purge (id INTEGER PRIMARY KEY);
DROP TRIGGER oc_audit_no_delete;
CREATE TRIGGER oc_audit_no_delete BEFORE DELETE ON oc_audit
WHEN NOT EXISTS (SELECT 1 FROM oc_purge)
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
