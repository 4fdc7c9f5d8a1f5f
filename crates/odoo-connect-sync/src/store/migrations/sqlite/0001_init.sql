-- odoo-connect state store, SQLite schema version 1.
-- Times are microseconds since the Unix epoch (UTC); JSON is stored as text.

CREATE TABLE oc_queue (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT    NOT NULL UNIQUE,
    lane          TEXT    NOT NULL,
    envelope      TEXT    NOT NULL,
    status        INTEGER NOT NULL DEFAULT 0, -- 0 active, 1 done, 2 dead-lettered
    enqueued_at   INTEGER NOT NULL,
    not_before    INTEGER NOT NULL,
    lease_token   TEXT,
    lease_owner   TEXT,
    lease_expires INTEGER,
    attempts      INTEGER NOT NULL DEFAULT 0,
    deliveries    INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    finished_at   INTEGER
);
CREATE INDEX oc_queue_active ON oc_queue (seq) WHERE status = 0;
CREATE INDEX oc_queue_lane ON oc_queue (lane, seq) WHERE status = 0;

CREATE TABLE oc_ledger (
    key           TEXT    PRIMARY KEY,
    state         INTEGER NOT NULL, -- 0 in flight, 1 done, 2 abandoned, 3 failed
    intent        TEXT    NOT NULL,
    outcome       TEXT,
    attempts      INTEGER NOT NULL,
    claim_token   TEXT    NOT NULL,
    claimed_until INTEGER NOT NULL,
    last_error    TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE oc_checkpoints (
    connector    TEXT    NOT NULL,
    stream       TEXT    NOT NULL,
    legal_entity TEXT    NOT NULL,
    cursor       TEXT,
    version      INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (connector, stream, legal_entity)
) WITHOUT ROWID;

CREATE TABLE oc_dead_letters (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    id                TEXT    NOT NULL UNIQUE,
    message_id        TEXT    NOT NULL,
    source            TEXT    NOT NULL,
    lane              TEXT    NOT NULL,
    idempotency_key   TEXT    NOT NULL,
    envelope          TEXT    NOT NULL,
    class             INTEGER NOT NULL, -- 0 business, 1 technical
    reason            TEXT    NOT NULL,
    errors            TEXT    NOT NULL,
    context           TEXT    NOT NULL,
    attempts          INTEGER NOT NULL,
    parked_at         INTEGER NOT NULL,
    replayed_by       TEXT,
    replayed_at       INTEGER,
    replay_message_id TEXT
);
CREATE INDEX oc_dead_letters_key ON oc_dead_letters (idempotency_key);
CREATE INDEX oc_dead_letters_lane ON oc_dead_letters (lane);
CREATE INDEX oc_dead_letters_parked ON oc_dead_letters (parked_at);

CREATE TABLE oc_audit (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    at               INTEGER NOT NULL,
    kind             TEXT    NOT NULL,
    correlation_id   TEXT,
    idempotency_key  TEXT,
    message_id       TEXT,
    actor            TEXT,
    credential_label TEXT,
    step             TEXT,
    outcome          TEXT,
    details          TEXT    NOT NULL
);
CREATE INDEX oc_audit_correlation ON oc_audit (correlation_id, seq);
CREATE INDEX oc_audit_key ON oc_audit (idempotency_key, seq);
CREATE INDEX oc_audit_message ON oc_audit (message_id, seq);
CREATE INDEX oc_audit_at ON oc_audit (at);
CREATE TRIGGER oc_audit_no_update BEFORE UPDATE ON oc_audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER oc_audit_no_delete BEFORE DELETE ON oc_audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
