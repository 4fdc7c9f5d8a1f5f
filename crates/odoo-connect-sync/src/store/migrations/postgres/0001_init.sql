-- odoo-connect state store, PostgreSQL schema version 1.
-- {s} is replaced by the store's quoted schema name.

CREATE TABLE {s}.oc_queue (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id            UUID        NOT NULL UNIQUE,
    lane          TEXT        NOT NULL,
    envelope      JSONB       NOT NULL,
    status        SMALLINT    NOT NULL DEFAULT 0, -- 0 active, 1 done, 2 dead-lettered
    enqueued_at   TIMESTAMPTZ NOT NULL,
    not_before    TIMESTAMPTZ NOT NULL,
    lease_token   UUID,
    lease_owner   TEXT,
    lease_expires TIMESTAMPTZ,
    attempts      INTEGER     NOT NULL DEFAULT 0,
    deliveries    INTEGER     NOT NULL DEFAULT 0,
    last_error    TEXT,
    finished_at   TIMESTAMPTZ
);
CREATE INDEX oc_queue_active ON {s}.oc_queue (seq) WHERE status = 0;
CREATE INDEX oc_queue_lane ON {s}.oc_queue (lane, seq) WHERE status = 0;

CREATE TABLE {s}.oc_ledger (
    key           TEXT        PRIMARY KEY,
    state         SMALLINT    NOT NULL, -- 0 in flight, 1 done, 2 abandoned, 3 failed
    intent        JSONB       NOT NULL,
    outcome       JSONB,
    attempts      INTEGER     NOT NULL,
    claim_token   UUID        NOT NULL,
    claimed_until TIMESTAMPTZ NOT NULL,
    last_error    TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE {s}.oc_checkpoints (
    connector    TEXT        NOT NULL,
    stream       TEXT        NOT NULL,
    legal_entity TEXT        NOT NULL,
    cursor       JSONB,
    version      BIGINT      NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (connector, stream, legal_entity)
);

CREATE TABLE {s}.oc_dead_letters (
    seq               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                UUID        NOT NULL UNIQUE,
    message_id        UUID        NOT NULL,
    source            TEXT        NOT NULL,
    lane              TEXT        NOT NULL,
    idempotency_key   TEXT        NOT NULL,
    envelope          JSONB       NOT NULL,
    class             SMALLINT    NOT NULL, -- 0 business, 1 technical
    reason            TEXT        NOT NULL,
    errors            JSONB       NOT NULL,
    context           JSONB       NOT NULL,
    attempts          INTEGER     NOT NULL,
    parked_at         TIMESTAMPTZ NOT NULL,
    replayed_by       TEXT,
    replayed_at       TIMESTAMPTZ,
    replay_message_id UUID
);
CREATE INDEX oc_dead_letters_key ON {s}.oc_dead_letters (idempotency_key);
CREATE INDEX oc_dead_letters_lane ON {s}.oc_dead_letters (lane);
CREATE INDEX oc_dead_letters_parked ON {s}.oc_dead_letters (parked_at);

CREATE TABLE {s}.oc_audit (
    seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at               TIMESTAMPTZ NOT NULL,
    kind             TEXT        NOT NULL,
    correlation_id   TEXT,
    idempotency_key  TEXT,
    message_id       UUID,
    actor            TEXT,
    credential_label TEXT,
    step             TEXT,
    outcome          TEXT,
    details          JSONB       NOT NULL
);
CREATE INDEX oc_audit_correlation ON {s}.oc_audit (correlation_id, seq);
CREATE INDEX oc_audit_key ON {s}.oc_audit (idempotency_key, seq);
CREATE INDEX oc_audit_message ON {s}.oc_audit (message_id, seq);
CREATE INDEX oc_audit_at ON {s}.oc_audit (at);
CREATE FUNCTION {s}.oc_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END
$$;
CREATE TRIGGER oc_audit_no_change BEFORE UPDATE OR DELETE ON {s}.oc_audit
    FOR EACH ROW EXECUTE FUNCTION {s}.oc_audit_append_only();
