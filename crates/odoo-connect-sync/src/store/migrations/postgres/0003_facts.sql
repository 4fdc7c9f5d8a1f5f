-- odoo-connect state store, PostgreSQL schema version 3: facts.
-- {s} is replaced by the store's quoted schema name.

-- What is known about the world, written once per key and never purged. A row is a fact
-- (`value` set) or an alias (`alias_of` names the subject of the fact it is another key of);
-- subjects and aliases share one namespace per kind.
CREATE TABLE {s}.oc_facts (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        TEXT        NOT NULL,
    subject     TEXT        NOT NULL,
    alias_of    TEXT,
    value       JSONB,
    recorded_at TIMESTAMPTZ NOT NULL,
    UNIQUE (kind, subject),
    CHECK ((alias_of IS NULL) = (value IS NOT NULL))
);
CREATE INDEX oc_facts_kind ON {s}.oc_facts (kind, seq) WHERE alias_of IS NULL;
