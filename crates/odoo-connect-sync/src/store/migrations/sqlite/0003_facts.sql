-- odoo-connect state store, SQLite schema version 3: facts.

-- What is known about the world, written once per key and never purged. A row is a fact
-- (`value` set) or an alias (`alias_of` names the subject of the fact it is another key of);
-- subjects and aliases share one namespace per kind.
CREATE TABLE oc_facts (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    alias_of    TEXT,
    value       TEXT,
    recorded_at INTEGER NOT NULL,
    UNIQUE (kind, subject),
    CHECK ((alias_of IS NULL) = (value IS NOT NULL))
);
CREATE INDEX oc_facts_kind ON oc_facts (kind, seq) WHERE alias_of IS NULL;
