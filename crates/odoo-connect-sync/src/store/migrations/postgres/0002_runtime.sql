-- odoo-connect state store, PostgreSQL schema version 2: quarantined rows, retention.
-- {s} is replaced by the store's quoted schema name.

-- The stored bytes of a queue row that could not be decoded.
ALTER TABLE {s}.oc_dead_letters ADD COLUMN raw BYTEA;

-- Finished rows, for retention.
CREATE INDEX oc_queue_finished ON {s}.oc_queue (finished_at) WHERE status <> 0;

-- The audit log stays append-only, except inside a purge: the purge's transaction sets
-- `odoo_connect.purge` to `on` (SET LOCAL) while it deletes.
CREATE OR REPLACE FUNCTION {s}.oc_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('odoo_connect.purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only';
END
$$;
