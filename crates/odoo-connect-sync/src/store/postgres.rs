//! The PostgreSQL state store (feature `postgres`): many workers on many machines.
//!
//! Workers lease with `FOR UPDATE SKIP LOCKED`, so they never wait for one another; a lease
//! carries an expiry that [`WorkQueue::heartbeat`] extends, and a lease that expires returns its
//! message to the queue. A batch of enqueues, leases, heartbeats or acks is one statement.
//!
//! The store creates its tables in its own schema (`odoo_connect` unless told otherwise) and
//! migrates them itself, under an advisory lock so that workers starting together do not race;
//! the schema version is kept in `oc_schema_version`. Facts are in `oc_facts`, which no purge
//! touches.
//!
//! Times come from the store's [`Clock`](crate::store::Clock), that is from the machine
//! running the worker: keep the workers' clocks synchronised (NTP), and choose lease durations
//! well above the clock skew between them.
//!
//! ```no_run
//! use odoo_connect_sync::store::postgres::PostgresStore;
//!
//! # async fn demo() -> Result<(), odoo_connect_sync::store::StoreError> {
//! let store = PostgresStore::builder("postgres://sync@db.internal/erp")
//!     .schema("odoo_connect")
//!     .max_connections(8)
//!     .connect()
//!     .await?;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, Row};
use uuid::Uuid;

use super::sql::{
    STATUS_ACTIVE, STATUS_DEAD, STATUS_DONE, class_code, class_from_code, db_err, decode_json,
    encode_json, ledger_code, ledger_from_code, like_contains, to_i64, to_u32, to_u64,
};
use crate::envelope::{CorrelationId, IdempotencyKey, JsonEnvelope, MessageId};
use crate::store::{
    AuditEvent, AuditKind, AuditLog, AuditQuery, AuditRecord, Begin, Checkpoint, CheckpointKey,
    Checkpoints, Claim, DeadLetter, DeadLetterFilter, DeadLetterId, DeadLetters, FactFilter,
    FactKey, FactKind, FactPage, FactSubject, Facts, Failure, FailureClass, IdempotencyLedger,
    Lease, LeasedMessage, LedgerEntry, LedgerState, MessageState, PurgeMode, QueueEntry,
    QueueFilter, QueuePage, QueueState, QueueStats, QueuedMessage, ReasonCount, Recorded, Replay,
    StoreError, StoreOptions, StoreResult, StoredFact, WorkQueue, add_duration,
    quarantine_envelope, undecodable_reason,
};

/// Migrations, in order; the index + 1 is the schema version. `{s}` is the quoted schema.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/postgres/0001_init.sql"),
    include_str!("migrations/postgres/0002_runtime.sql"),
    include_str!("migrations/postgres/0003_facts.sql"),
];

/// The schema used when none is given.
pub const DEFAULT_SCHEMA: &str = "odoo_connect";

/// The PostgreSQL state store. Cheap to clone: clones share the pool.
#[derive(Clone)]
pub struct PostgresStore {
    shared: Arc<Shared>,
}

struct Shared {
    pool: PgPool,
    schema: String,
    options: StoreOptions,
    sql: Statements,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("schema", &self.shared.schema)
            .field("pool_size", &self.shared.pool.size())
            .finish_non_exhaustive()
    }
}

/// Configures a [`PostgresStore`]; see [`PostgresStore::builder`].
#[must_use]
pub struct PostgresStoreBuilder {
    url: String,
    schema: String,
    max_connections: u32,
    acquire_timeout: Duration,
    options: StoreOptions,
}

impl fmt::Debug for PostgresStoreBuilder {
    // The URL may hold a password: it is left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStoreBuilder")
            .field("schema", &self.schema)
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .finish_non_exhaustive()
    }
}

impl PostgresStoreBuilder {
    /// The schema holding the tables (default [`DEFAULT_SCHEMA`]); `[a-z_][a-z0-9_]*`, at most 63
    /// characters.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// The pool's size (default 8).
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// How long to wait for a free connection (default 30 s).
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// Clock and redactor.
    pub fn options(mut self, options: StoreOptions) -> Self {
        self.options = options;
        self
    }

    /// Connects, creates the schema and tables if needed and migrates them.
    pub async fn connect(self) -> StoreResult<PostgresStore> {
        check_schema(&self.schema)?;
        let connect = PgConnectOptions::from_str(&self.url).map_err(db_err("parse url"))?;
        let pool = PgPoolOptions::new()
            .max_connections(self.max_connections)
            .acquire_timeout(self.acquire_timeout)
            .connect_with(connect)
            .await
            .map_err(db_err("connect"))?;
        PostgresStore::from_pool(pool, &self.schema, self.options).await
    }
}

fn check_schema(schema: &str) -> StoreResult<()> {
    let ok = !schema.is_empty()
        && schema.len() <= 63
        && schema
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && schema
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidArgument {
            reason: format!("schema name {schema:?} must match [a-z_][a-z0-9_]* (at most 63)"),
        })
    }
}

impl PostgresStore {
    /// A builder for the database at `url` (`postgres://user@host/db`).
    pub fn builder(url: impl Into<String>) -> PostgresStoreBuilder {
        PostgresStoreBuilder {
            url: url.into(),
            schema: DEFAULT_SCHEMA.to_owned(),
            max_connections: 8,
            acquire_timeout: Duration::from_secs(30),
            options: StoreOptions::default(),
        }
    }

    /// Connects to `url` with the default schema and options.
    pub async fn connect(url: impl Into<String>) -> StoreResult<Self> {
        Self::builder(url).connect().await
    }

    /// Uses an existing pool; creates and migrates the tables in `schema`.
    pub async fn from_pool(pool: PgPool, schema: &str, options: StoreOptions) -> StoreResult<Self> {
        check_schema(schema)?;
        let quoted = format!("\"{schema}\"");
        migrate(&pool, schema, &quoted).await?;
        Ok(Self {
            shared: Arc::new(Shared {
                sql: Statements::new(&quoted),
                pool,
                schema: schema.to_owned(),
                options,
            }),
        })
    }

    /// The schema holding the tables.
    pub fn schema(&self) -> &str {
        &self.shared.schema
    }

    /// The pool.
    pub fn pool(&self) -> &PgPool {
        &self.shared.pool
    }

    /// The options the store was built with.
    pub fn options(&self) -> &StoreOptions {
        &self.shared.options
    }

    /// The schema version of the database.
    pub async fn schema_version(&self) -> StoreResult<i64> {
        let sql = format!(
            "SELECT COALESCE(MAX(version), 0)::BIGINT FROM \"{}\".oc_schema_version",
            self.shared.schema
        );
        sqlx::query_scalar(&sql)
            .fetch_one(self.pool())
            .await
            .map_err(db_err("read schema version"))
    }

    /// Drops the store's schema and everything in it. Destructive: meant for tests that isolate
    /// themselves in a schema of their own.
    pub async fn drop_schema(&self) -> StoreResult<()> {
        let sql = format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.shared.schema);
        sqlx::query(&sql)
            .execute(self.pool())
            .await
            .map_err(db_err("drop schema"))?;
        Ok(())
    }

    /// Closes the pool; clones become unusable.
    pub async fn close(&self) {
        self.shared.pool.close().await;
    }

    fn now(&self) -> DateTime<Utc> {
        self.shared.options.clock.now()
    }

    fn sql(&self) -> &Statements {
        &self.shared.sql
    }
}

/// Boxed so that the future is proven `Send` here, where its types are concrete.
fn migrate<'a>(
    pool: &'a PgPool,
    schema: &'a str,
    quoted: &'a str,
) -> BoxFuture<'a, StoreResult<()>> {
    Box::pin(async move {
        let mut conn = pool.acquire().await.map_err(db_err("migrate"))?;
        let mut tx = conn.begin().await.map_err(db_err("migrate"))?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(format!("odoo_connect:{schema}"))
            .execute(&mut *tx)
            .await
            .map_err(db_err("migrate"))?;
        let setup = format!(
            "CREATE SCHEMA IF NOT EXISTS {quoted};
             CREATE TABLE IF NOT EXISTS {quoted}.oc_schema_version (
                 version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        );
        sqlx::Executor::execute(&mut *tx, setup.as_str())
            .await
            .map_err(db_err("migrate"))?;
        let current: i64 = sqlx::query_scalar(&format!(
            "SELECT COALESCE(MAX(version), 0)::BIGINT FROM {quoted}.oc_schema_version"
        ))
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err("migrate"))?;
        let supported = MIGRATIONS.len() as i64;
        if current > supported {
            return Err(StoreError::UnsupportedSchema {
                found: current,
                supported,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            let version = i as i64 + 1;
            let sql = format!(
                "{}\nINSERT INTO {quoted}.oc_schema_version (version) VALUES ({version});",
                sql.replace("{s}", quoted)
            );
            sqlx::Executor::execute(&mut *tx, sql.as_str())
                .await
                .map_err(|e| StoreError::Migration {
                    version,
                    source: Box::new(e),
                })?;
        }
        tx.commit().await.map_err(db_err("migrate"))
    })
}

/// Every statement, rendered once for the store's schema.
struct Statements {
    enqueue: String,
    lease: String,
    heartbeat: String,
    ack: String,
    retry: String,
    dead: String,
    get: String,
    stats: String,
    park: String,
    dead_by_id: String,
    dead_list: String,
    replayed: String,
    count_reason: String,
    begin: String,
    ledger_read: String,
    complete: String,
    release: String,
    cp_get: String,
    cp_insert: String,
    cp_update: String,
    cp_reset: String,
    audit_append: String,
    audit_query: String,
    release_leases: String,
    list: String,
    quarantine: String,
    fact_insert: String,
    fact_aliases: String,
    fact_read: String,
    fact_list: String,
}

const DEAD_LETTER_COLUMNS: &str = "id, envelope, class, reason, errors, context, attempts, \
     parked_at, replayed_by, replayed_at, replay_message_id, raw";

impl Statements {
    fn new(s: &str) -> Self {
        let r = |sql: &str| sql.replace("{s}", s).replace("{dl}", DEAD_LETTER_COLUMNS);
        Self {
            enqueue: r(
                "INSERT INTO {s}.oc_queue (id, lane, envelope, enqueued_at, not_before)
                SELECT m.id, m.lane, m.envelope, $4, $4
                FROM unnest($1::uuid[], $2::text[], $3::jsonb[]) WITH ORDINALITY
                     AS m(id, lane, envelope, ord)
                ORDER BY m.ord
                ON CONFLICT (id) DO NOTHING",
            ),
            lease: r("UPDATE {s}.oc_queue q
                SET lease_token = $1, lease_owner = $2, lease_expires = $3,
                    deliveries = q.deliveries + 1
                FROM (SELECT c.seq FROM {s}.oc_queue c
                      WHERE c.status = 0 AND c.not_before <= $4
                        AND (c.lease_expires IS NULL OR c.lease_expires <= $4)
                        AND NOT EXISTS (SELECT 1 FROM {s}.oc_queue p
                                        WHERE p.lane = c.lane AND p.status = 0 AND p.seq < c.seq)
                      ORDER BY c.seq LIMIT $5
                      FOR UPDATE SKIP LOCKED) pick
                WHERE q.seq = pick.seq
                RETURNING q.seq, q.id, q.lane, q.envelope, q.lease_token, q.lease_expires,
                          q.attempts, q.deliveries, q.enqueued_at, q.last_error"),
            release_leases: r("UPDATE {s}.oc_queue q
                SET lease_token = NULL, lease_owner = NULL, lease_expires = NULL
                FROM unnest($1::uuid[], $2::uuid[]) AS a(id, tok)
                WHERE q.id = a.id AND q.lease_token = a.tok AND q.status = 0
                RETURNING q.id"),
            list: r(
                "SELECT seq, id, lane, envelope, status, enqueued_at, not_before,
                       lease_owner, lease_expires, attempts, deliveries, last_error, finished_at
                FROM {s}.oc_queue
                WHERE seq > $1
                  AND ($2::text IS NULL
                       OR COALESCE(envelope -> 'payload' ->> 'flow', envelope ->> 'source') = $2)
                  AND ($3::text IS NULL OR lane = $3)
                  AND ($4::timestamptz IS NULL OR enqueued_at < $4)
                  AND (CASE $5::text
                       WHEN 'unfinished' THEN status = 0
                       WHEN 'ready' THEN status = 0 AND not_before <= $6
                            AND (lease_expires IS NULL OR lease_expires <= $6)
                       WHEN 'leased' THEN status = 0 AND lease_expires > $6
                       WHEN 'scheduled' THEN status = 0 AND not_before > $6
                            AND (lease_expires IS NULL OR lease_expires <= $6)
                       WHEN 'done' THEN status = 1
                       WHEN 'dead_lettered' THEN status = 2
                       ELSE true END)
                ORDER BY seq LIMIT $7",
            ),
            quarantine: r("UPDATE {s}.oc_queue
                SET status = 2, finished_at = $1, lease_token = NULL, lease_owner = NULL,
                    lease_expires = NULL, envelope = $2
                WHERE seq = $3"),
            heartbeat: r("UPDATE {s}.oc_queue q SET lease_expires = $3
                FROM unnest($1::uuid[], $2::uuid[]) AS a(id, tok)
                WHERE q.id = a.id AND q.lease_token = a.tok AND q.status = 0
                RETURNING q.id"),
            ack: r("UPDATE {s}.oc_queue q
                SET status = 1, finished_at = $3, lease_token = NULL, lease_owner = NULL,
                    lease_expires = NULL
                FROM unnest($1::uuid[], $2::uuid[]) AS a(id, tok)
                WHERE q.id = a.id AND q.lease_token = a.tok AND q.status = 0
                RETURNING q.id"),
            retry: r("UPDATE {s}.oc_queue
                SET not_before = $1, attempts = attempts + 1, last_error = $2,
                    lease_token = NULL, lease_owner = NULL, lease_expires = NULL
                WHERE id = $3 AND lease_token = $4 AND status = 0"),
            dead: r("UPDATE {s}.oc_queue
                SET status = 2, finished_at = $1, lease_token = NULL, lease_owner = NULL,
                    lease_expires = NULL
                WHERE id = $2 AND lease_token = $3 AND status = 0
                RETURNING envelope, attempts"),
            get: r(
                "SELECT envelope, status, enqueued_at, not_before, lease_owner, lease_expires,
                       attempts, deliveries, last_error, finished_at
                FROM {s}.oc_queue WHERE id = $1",
            ),
            stats: r("SELECT COUNT(*) AS depth,
                       COUNT(*) FILTER (WHERE lease_expires > $1) AS in_flight,
                       COUNT(*) FILTER (WHERE (lease_expires IS NULL OR lease_expires <= $1)
                                          AND not_before > $1) AS scheduled,
                       MIN(enqueued_at) AS oldest
                FROM {s}.oc_queue WHERE status = 0"),
            park: r(
                "INSERT INTO {s}.oc_dead_letters (id, message_id, source, lane,
                    idempotency_key, envelope, class, reason, errors, context, attempts, parked_at,
                    raw)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            ),
            dead_by_id: r("SELECT {dl} FROM {s}.oc_dead_letters WHERE id = $1"),
            dead_list: r("SELECT {dl} FROM {s}.oc_dead_letters
                WHERE ($1::text IS NULL OR source = $1)
                  AND ($2::text IS NULL OR reason ILIKE $2 ESCAPE '\\')
                  AND ($3::timestamptz IS NULL OR parked_at >= $3)
                  AND ($4::timestamptz IS NULL OR parked_at < $4)
                  AND ($5::text IS NULL OR lane = $5)
                  AND ($6::text IS NULL OR idempotency_key = $6)
                  AND ($7::smallint IS NULL OR class = $7)
                  AND ($8::boolean IS NULL OR (replayed_by IS NOT NULL) = $8)
                ORDER BY seq LIMIT $9"),
            replayed: r("UPDATE {s}.oc_dead_letters
                SET replayed_by = $1, replayed_at = $2, replay_message_id = $3
                WHERE id = $4"),
            count_reason: r(
                "SELECT class, reason, COUNT(*) AS n FROM {s}.oc_dead_letters
                WHERE replayed_by IS NULL GROUP BY class, reason
                ORDER BY n DESC, reason, class",
            ),
            begin: r(
                "INSERT INTO {s}.oc_ledger AS l (key, state, intent, attempts, claim_token,
                    claimed_until, created_at, updated_at)
                SELECT x.k, 0, x.i, 1, x.t, $4, $5, $5
                FROM unnest($1::text[], $2::jsonb[], $3::uuid[]) WITH ORDINALITY AS x(k, i, t, o)
                ORDER BY x.o
                ON CONFLICT (key) DO UPDATE SET state = 0, intent = EXCLUDED.intent,
                    attempts = l.attempts + 1, claim_token = EXCLUDED.claim_token,
                    claimed_until = EXCLUDED.claimed_until, updated_at = EXCLUDED.updated_at
                WHERE l.state IN (2, 3) OR (l.state = 0 AND l.claimed_until <= $5)
                RETURNING key, attempts, last_error",
            ),
            ledger_read: r(
                "SELECT state, intent, outcome, attempts, last_error, claimed_until,
                       updated_at
                FROM {s}.oc_ledger WHERE key = $1",
            ),
            complete: r("UPDATE {s}.oc_ledger l
                SET outcome = CASE WHEN l.state = 1 THEN l.outcome ELSE x.o END,
                    updated_at = CASE WHEN l.state = 1 THEN l.updated_at ELSE $3 END,
                    state = 1
                FROM unnest($1::text[], $2::jsonb[]) AS x(k, o)
                WHERE l.key = x.k
                RETURNING l.key"),
            release: r("UPDATE {s}.oc_ledger
                SET state = $1, last_error = COALESCE($2, last_error), updated_at = $3
                WHERE key = $4 AND claim_token = $5 AND state = 0"),
            cp_get: r("SELECT cursor, version, updated_at FROM {s}.oc_checkpoints
                WHERE connector = $1 AND stream = $2 AND legal_entity = $3"),
            cp_insert: r("INSERT INTO {s}.oc_checkpoints
                    (connector, stream, legal_entity, cursor, version, updated_at)
                VALUES ($1, $2, $3, $4, $5 + 1, $6)
                ON CONFLICT (connector, stream, legal_entity) DO NOTHING
                RETURNING cursor, version, updated_at"),
            cp_update: r(
                "UPDATE {s}.oc_checkpoints SET cursor = $4, version = $5 + 1,
                    updated_at = $6
                WHERE connector = $1 AND stream = $2 AND legal_entity = $3 AND version = $5
                RETURNING cursor, version, updated_at",
            ),
            cp_reset: r("INSERT INTO {s}.oc_checkpoints AS c
                    (connector, stream, legal_entity, cursor, version, updated_at)
                VALUES ($1, $2, $3, NULL, 1, $4)
                ON CONFLICT (connector, stream, legal_entity) DO UPDATE
                    SET cursor = NULL, version = c.version + 1, updated_at = EXCLUDED.updated_at
                RETURNING cursor, version, updated_at"),
            audit_append: r(
                "INSERT INTO {s}.oc_audit (at, kind, correlation_id, idempotency_key,
                    message_id, actor, credential_label, step, outcome, details)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING seq",
            ),
            audit_query: r(
                "SELECT seq, at, kind, correlation_id, idempotency_key, message_id,
                       actor, credential_label, step, outcome, details
                FROM {s}.oc_audit
                WHERE ($1::text IS NULL OR correlation_id = $1)
                  AND ($2::text IS NULL OR idempotency_key = $2)
                  AND ($3::uuid IS NULL OR message_id = $3)
                  AND ($4::timestamptz IS NULL OR at >= $4)
                  AND ($5::timestamptz IS NULL OR at < $5)
                  AND seq > $6
                ORDER BY seq LIMIT $7",
            ),
            fact_insert: r(
                "INSERT INTO {s}.oc_facts (kind, subject, value, recorded_at)
                VALUES ($1, $2, $3, $4)
                ON CONFLICT (kind, subject) DO NOTHING
                RETURNING seq, subject, value, recorded_at",
            ),
            fact_aliases: r(
                "INSERT INTO {s}.oc_facts (kind, subject, alias_of, recorded_at)
                SELECT $1, a.subject, $2, $4
                FROM unnest($3::text[]) AS a(subject)
                ORDER BY a.subject
                ON CONFLICT (kind, subject) DO NOTHING",
            ),
            fact_read: r("SELECT f.seq, f.subject, f.value, f.recorded_at
                FROM {s}.oc_facts k JOIN {s}.oc_facts f
                  ON f.kind = k.kind AND f.subject = COALESCE(k.alias_of, k.subject)
                     AND f.alias_of IS NULL
                WHERE k.kind = $1 AND k.subject = $2"),
            fact_list: r("SELECT seq, subject, value, recorded_at FROM {s}.oc_facts
                WHERE kind = $1 AND alias_of IS NULL AND seq > $2
                ORDER BY seq LIMIT $3"),
        }
    }
}

fn get<'r, T>(row: &'r PgRow, col: &'static str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    row.try_get(col)
        .map_err(|e| StoreError::corrupt(format!("column {col}"), e))
}

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn leased_from_row(row: &PgRow) -> StoreResult<(i64, LeasedMessage)> {
    let envelope: JsonEnvelope = decode_json("envelope", get(row, "envelope")?)?;
    let msg = LeasedMessage {
        lease: Lease {
            message_id: envelope.id,
            token: get(row, "lease_token")?,
            expires_at: get(row, "lease_expires")?,
        },
        envelope,
        attempts: to_u32("attempts", i64::from(get::<i32>(row, "attempts")?))?,
        deliveries: to_u32("deliveries", i64::from(get::<i32>(row, "deliveries")?))?,
        enqueued_at: get(row, "enqueued_at")?,
        last_error: get(row, "last_error")?,
    };
    Ok((get(row, "seq")?, msg))
}

fn lease_arrays(leases: &[Lease]) -> (Vec<Uuid>, Vec<Uuid>) {
    let mut sorted: Vec<&Lease> = leases.iter().collect();
    // A fixed lock order keeps concurrent batches from deadlocking.
    sorted.sort_by_key(|l| l.message_id);
    sorted
        .into_iter()
        .map(|l| (l.message_id.as_uuid(), l.token))
        .unzip()
}

#[async_trait]
impl WorkQueue for PostgresStore {
    async fn enqueue_batch(&self, messages: &[JsonEnvelope]) -> StoreResult<usize> {
        if messages.is_empty() {
            return Ok(0);
        }
        let mut ids = Vec::with_capacity(messages.len());
        let mut lanes = Vec::with_capacity(messages.len());
        let mut bodies = Vec::with_capacity(messages.len());
        for m in messages {
            ids.push(m.id.as_uuid());
            lanes.push(m.lane.as_str().to_owned());
            bodies.push(encode_json("envelope", m)?);
        }
        let done = sqlx::query(&self.sql().enqueue)
            .bind(ids)
            .bind(lanes)
            .bind(bodies)
            .bind(self.now())
            .execute(self.pool())
            .await
            .map_err(db_err("enqueue"))?;
        Ok(done.rows_affected() as usize)
    }

    async fn lease(
        &self,
        worker: &str,
        max: usize,
        lease_for: Duration,
    ) -> StoreResult<Vec<LeasedMessage>> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let now = self.now();
        let rows = sqlx::query(&self.sql().lease)
            .bind(Uuid::new_v4())
            .bind(worker)
            .bind(add_duration(now, lease_for)?)
            .bind(now)
            .bind(limit(max))
            .fetch_all(self.pool())
            .await
            .map_err(db_err("lease"))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            match leased_from_row(row) {
                Ok(m) => out.push(m),
                // A row that cannot be decoded must not stop every worker: park it.
                Err(e) => self.quarantine(row, &e).await?,
            }
        }
        out.sort_by_key(|(seq, _)| *seq);
        Ok(out.into_iter().map(|(_, m)| m).collect())
    }

    async fn release(&self, leases: &[Lease]) -> StoreResult<Vec<MessageId>> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let (ids, tokens) = lease_arrays(leases);
        let rows = sqlx::query(&self.sql().release_leases)
            .bind(ids)
            .bind(tokens)
            .fetch_all(self.pool())
            .await
            .map_err(db_err("release"))?;
        rows.iter()
            .map(|r| get::<Uuid>(r, "id").map(MessageId::from_uuid))
            .collect()
    }

    async fn list_messages(&self, filter: &QueueFilter) -> StoreResult<QueuePage> {
        let now = self.now();
        let limit_n = filter.effective_limit();
        let rows = sqlx::query(&self.sql().list)
            .bind(to_i64("cursor", filter.after.unwrap_or(0))?)
            .bind(filter.flow.as_deref())
            .bind(filter.lane.as_ref().map(|l| l.as_str()))
            .bind(filter.enqueued_before)
            .bind(filter.state.map(QueueState::as_str))
            .bind(now)
            .bind(limit(limit_n))
            .fetch_all(self.pool())
            .await
            .map_err(db_err("list messages"))?;
        let items = rows
            .iter()
            .map(|row| {
                let message = queued_from_row_with(row, now, |row| {
                    let v: Value = get(row, "envelope")?;
                    match decode_json::<JsonEnvelope>("envelope", v) {
                        Ok(e) => Ok(e),
                        // A row not leased yet may be undecodable: list its stand-in.
                        Err(_) => quarantine_envelope(
                            get::<Uuid>(row, "id").ok().map(MessageId::from_uuid),
                            &get::<String>(row, "lane").unwrap_or_default(),
                        ),
                    }
                })?;
                Ok(QueueEntry {
                    position: to_u64("seq", get(row, "seq")?)?,
                    message,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(QueuePage::new(items, limit_n))
    }

    async fn purge_finished(&self, before: DateTime<Utc>, mode: PurgeMode) -> StoreResult<u64> {
        self.purge("oc_queue", "status <> 0 AND finished_at < $1", before, mode)
            .await
    }

    async fn heartbeat(&self, leases: &[Lease], extend_for: Duration) -> StoreResult<Vec<Lease>> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let expires = add_duration(self.now(), extend_for)?;
        let (ids, tokens) = lease_arrays(leases);
        let rows = sqlx::query(&self.sql().heartbeat)
            .bind(ids)
            .bind(tokens)
            .bind(expires)
            .fetch_all(self.pool())
            .await
            .map_err(db_err("heartbeat"))?;
        let kept: Vec<Uuid> = rows
            .iter()
            .map(|r| get::<Uuid>(r, "id"))
            .collect::<StoreResult<_>>()?;
        Ok(leases
            .iter()
            .filter(|l| kept.contains(&l.message_id.as_uuid()))
            .map(|l| Lease {
                expires_at: expires,
                ..l.clone()
            })
            .collect())
    }

    async fn ack(&self, leases: &[Lease]) -> StoreResult<Vec<MessageId>> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let (ids, tokens) = lease_arrays(leases);
        let rows = sqlx::query(&self.sql().ack)
            .bind(ids)
            .bind(tokens)
            .bind(self.now())
            .fetch_all(self.pool())
            .await
            .map_err(db_err("ack"))?;
        rows.iter()
            .map(|r| get::<Uuid>(r, "id").map(MessageId::from_uuid))
            .collect()
    }

    async fn retry_later(&self, lease: &Lease, delay: Duration, error: &str) -> StoreResult<()> {
        let done = sqlx::query(&self.sql().retry)
            .bind(add_duration(self.now(), delay)?)
            .bind(error)
            .bind(lease.message_id.as_uuid())
            .bind(lease.token)
            .execute(self.pool())
            .await
            .map_err(db_err("retry later"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::LeaseLost {
                message_id: lease.message_id,
            });
        }
        Ok(())
    }

    async fn dead_letter(&self, lease: &Lease, failure: Failure) -> StoreResult<DeadLetterId> {
        let now = self.now();
        let mut tx = self.pool().begin().await.map_err(db_err("dead letter"))?;
        let row = sqlx::query(&self.sql().dead)
            .bind(now)
            .bind(lease.message_id.as_uuid())
            .bind(lease.token)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err("dead letter"))?
            .ok_or(StoreError::LeaseLost {
                message_id: lease.message_id,
            })?;
        let envelope: JsonEnvelope = decode_json("envelope", get(&row, "envelope")?)?;
        let attempts = to_u32("attempts", i64::from(get::<i32>(&row, "attempts")?))? + 1;
        let id = self
            .insert_dead_letter(&mut tx, &envelope, &failure, attempts, now, None)
            .await?;
        tx.commit().await.map_err(db_err("dead letter"))?;
        Ok(id)
    }

    async fn get(&self, id: MessageId) -> StoreResult<Option<QueuedMessage>> {
        let now = self.now();
        let row = sqlx::query(&self.sql().get)
            .bind(id.as_uuid())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err("get message"))?;
        row.map(|row| {
            queued_from_row_with(&row, now, |row| {
                decode_json("envelope", get(row, "envelope")?)
            })
        })
        .transpose()
    }

    async fn stats(&self) -> StoreResult<QueueStats> {
        let row = sqlx::query(&self.sql().stats)
            .bind(self.now())
            .fetch_one(self.pool())
            .await
            .map_err(db_err("stats"))?;
        Ok(QueueStats {
            depth: to_u64("depth", get(&row, "depth")?)?,
            in_flight: to_u64("in_flight", get(&row, "in_flight")?)?,
            scheduled: to_u64("scheduled", get(&row, "scheduled")?)?,
            oldest_enqueued_at: get(&row, "oldest")?,
        })
    }
}

fn queued_from_row_with(
    row: &PgRow,
    now: DateTime<Utc>,
    envelope: impl FnOnce(&PgRow) -> StoreResult<JsonEnvelope>,
) -> StoreResult<QueuedMessage> {
    let status: i16 = get(row, "status")?;
    let finished = |row: &PgRow| -> StoreResult<DateTime<Utc>> {
        Ok(get::<Option<DateTime<Utc>>>(row, "finished_at")?.unwrap_or_default())
    };
    let lease_expires: Option<DateTime<Utc>> = get(row, "lease_expires")?;
    let not_before: DateTime<Utc> = get(row, "not_before")?;
    let state = match status {
        STATUS_DONE => MessageState::Done { at: finished(row)? },
        STATUS_DEAD => MessageState::DeadLettered { at: finished(row)? },
        STATUS_ACTIVE => match lease_expires {
            Some(exp) if exp > now => MessageState::Leased {
                owner: get::<Option<String>>(row, "lease_owner")?.unwrap_or_default(),
                expires_at: exp,
            },
            _ if not_before > now => MessageState::Scheduled { not_before },
            _ => MessageState::Ready,
        },
        other => {
            return Err(StoreError::Corrupt {
                what: format!("queue status {other}"),
                source: None,
            });
        }
    };
    Ok(QueuedMessage {
        envelope: envelope(row)?,
        state,
        attempts: to_u32("attempts", i64::from(get::<i32>(row, "attempts")?))?,
        deliveries: to_u32("deliveries", i64::from(get::<i32>(row, "deliveries")?))?,
        enqueued_at: get(row, "enqueued_at")?,
        last_error: get(row, "last_error")?,
    })
}

impl PostgresStore {
    /// Parks a leased row that could not be decoded: the dead letter keeps its raw bytes, the
    /// queue row gets a stand-in envelope and frees its lane, in one transaction.
    async fn quarantine(&self, row: &PgRow, error: &StoreError) -> StoreResult<()> {
        let seq: i64 = get(row, "seq")?;
        let raw: Vec<u8> = get::<Value>(row, "envelope")
            .map(|v| v.to_string().into_bytes())
            .unwrap_or_default();
        let id = get::<Uuid>(row, "id").ok().map(MessageId::from_uuid);
        let lane: String = get(row, "lane").unwrap_or_default();
        let attempts = get::<i32>(row, "attempts").unwrap_or(0);
        let stand_in = quarantine_envelope(id, &lane)?;
        let failure = Failure::new(FailureClass::Technical, undecodable_reason(error))
            .with_context(serde_json::json!({"queue_seq": seq}));
        let now = self.now();
        tracing::error!(seq, error = %failure.reason, "quarantined an undecodable queue row");
        let mut tx = self.pool().begin().await.map_err(db_err("quarantine"))?;
        sqlx::query(&self.sql().quarantine)
            .bind(now)
            .bind(encode_json("envelope", &stand_in)?)
            .bind(seq)
            .execute(&mut *tx)
            .await
            .map_err(db_err("quarantine"))?;
        let attempts = u32::try_from(attempts).unwrap_or(0) + 1;
        self.insert_dead_letter(&mut tx, &stand_in, &failure, attempts, now, Some(&raw))
            .await?;
        tx.commit().await.map_err(db_err("quarantine"))
    }

    /// Deletes (or counts, in a dry run) the rows of `table` matching `condition` on `$1`.
    async fn purge(
        &self,
        table: &'static str,
        condition: &'static str,
        before: DateTime<Utc>,
        mode: PurgeMode,
    ) -> StoreResult<u64> {
        let s = format!("\"{}\"", self.shared.schema);
        if mode.is_dry_run() {
            let n: i64 = sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM {s}.{table} WHERE {condition}"
            ))
            .bind(before)
            .fetch_one(self.pool())
            .await
            .map_err(db_err("purge"))?;
            return to_u64("count", n);
        }
        let mut tx = self.pool().begin().await.map_err(db_err("purge"))?;
        if table == "oc_audit" {
            sqlx::query("SELECT set_config('odoo_connect.purge', 'on', true)")
                .execute(&mut *tx)
                .await
                .map_err(db_err("purge"))?;
        }
        let done = sqlx::query(&format!("DELETE FROM {s}.{table} WHERE {condition}"))
            .bind(before)
            .execute(&mut *tx)
            .await
            .map_err(db_err("purge"))?;
        tx.commit().await.map_err(db_err("purge"))?;
        Ok(done.rows_affected())
    }

    async fn insert_dead_letter(
        &self,
        conn: &mut sqlx::PgConnection,
        envelope: &JsonEnvelope,
        failure: &Failure,
        attempts: u32,
        now: DateTime<Utc>,
        raw: Option<&[u8]>,
    ) -> StoreResult<DeadLetterId> {
        let id = DeadLetterId::new();
        sqlx::query(&self.sql().park)
            .bind(id.as_uuid())
            .bind(envelope.id.as_uuid())
            .bind(&envelope.source)
            .bind(envelope.lane.as_str())
            .bind(envelope.idempotency_key.as_str())
            .bind(encode_json("envelope", envelope)?)
            .bind(class_code(failure.class))
            .bind(&failure.reason)
            .bind(encode_json("errors", &failure.errors)?)
            .bind(&failure.context)
            .bind(i32::try_from(attempts).unwrap_or(i32::MAX))
            .bind(now)
            .bind(raw)
            .execute(conn)
            .await
            .map_err(db_err("park dead letter"))?;
        Ok(id)
    }
}

fn dead_letter_from_row(row: &PgRow) -> StoreResult<DeadLetter> {
    let replayed_by: Option<String> = get(row, "replayed_by")?;
    let replay = match replayed_by {
        Some(by) => Some(Replay {
            by,
            at: get::<Option<DateTime<Utc>>>(row, "replayed_at")?.unwrap_or_default(),
            message_id: get::<Option<Uuid>>(row, "replay_message_id")?.map(MessageId::from_uuid),
        }),
        None => None,
    };
    let mut failure = Failure::new(
        class_from_code(get(row, "class")?)?,
        get::<String>(row, "reason")?,
    );
    failure.errors = decode_json("errors", get(row, "errors")?)?;
    failure.context = get(row, "context")?;
    Ok(DeadLetter {
        id: DeadLetterId::from_uuid(get(row, "id")?),
        envelope: decode_json("envelope", get(row, "envelope")?)?,
        failure,
        attempts: to_u32("attempts", i64::from(get::<i32>(row, "attempts")?))?,
        parked_at: get(row, "parked_at")?,
        replay,
        raw: get(row, "raw")?,
    })
}

#[async_trait]
impl DeadLetters for PostgresStore {
    async fn park(
        &self,
        envelope: &JsonEnvelope,
        failure: Failure,
        attempts: u32,
    ) -> StoreResult<DeadLetterId> {
        let mut conn = self.pool().acquire().await.map_err(db_err("park"))?;
        self.insert_dead_letter(&mut conn, envelope, &failure, attempts, self.now(), None)
            .await
    }

    async fn dead_letter_by_id(&self, id: DeadLetterId) -> StoreResult<Option<DeadLetter>> {
        sqlx::query(&self.sql().dead_by_id)
            .bind(id.as_uuid())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err("get dead letter"))?
            .as_ref()
            .map(dead_letter_from_row)
            .transpose()
    }

    async fn list_dead_letters(&self, filter: &DeadLetterFilter) -> StoreResult<Vec<DeadLetter>> {
        let rows = sqlx::query(&self.sql().dead_list)
            .bind(filter.source.as_deref())
            .bind(filter.reason_contains.as_deref().map(like_contains))
            .bind(filter.parked_from)
            .bind(filter.parked_until)
            .bind(filter.lane.as_ref().map(|l| l.as_str()))
            .bind(filter.idempotency_key.as_ref().map(|k| k.as_str()))
            .bind(filter.class.map(class_code))
            .bind(filter.replayed)
            .bind(limit(filter.effective_limit()))
            .fetch_all(self.pool())
            .await
            .map_err(db_err("list dead letters"))?;
        rows.iter().map(dead_letter_from_row).collect()
    }

    async fn mark_replayed(
        &self,
        id: DeadLetterId,
        actor: &str,
        message_id: Option<MessageId>,
    ) -> StoreResult<()> {
        let done = sqlx::query(&self.sql().replayed)
            .bind(actor)
            .bind(self.now())
            .bind(message_id.map(|m| m.as_uuid()))
            .bind(id.as_uuid())
            .execute(self.pool())
            .await
            .map_err(db_err("mark replayed"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: "dead letter",
                id: id.to_string(),
            });
        }
        Ok(())
    }

    async fn purge_dead_letters(&self, before: DateTime<Utc>, mode: PurgeMode) -> StoreResult<u64> {
        self.purge(
            "oc_dead_letters",
            "replayed_by IS NOT NULL AND replayed_at < $1",
            before,
            mode,
        )
        .await
    }

    async fn count_by_reason(&self) -> StoreResult<Vec<ReasonCount>> {
        let rows = sqlx::query(&self.sql().count_reason)
            .fetch_all(self.pool())
            .await
            .map_err(db_err("count dead letters"))?;
        rows.iter()
            .map(|r| {
                Ok(ReasonCount {
                    class: class_from_code(get(r, "class")?)?,
                    reason: get(r, "reason")?,
                    count: to_u64("count", get(r, "n")?)?,
                })
            })
            .collect()
    }
}

#[async_trait]
impl IdempotencyLedger for PostgresStore {
    fn now(&self) -> DateTime<Utc> {
        self.shared.options.clock.now()
    }

    async fn begin(
        &self,
        key: &IdempotencyKey,
        intent: &Value,
        claim_for: Duration,
    ) -> StoreResult<Begin> {
        let mut answers =
            super::sql::begin_many(self, &[(key.clone(), intent.clone())], claim_for).await?;
        answers.pop().ok_or_else(|| StoreError::InvalidArgument {
            reason: "ledger batch left a key unanswered".into(),
        })
    }

    async fn begin_many(
        &self,
        requests: &[(IdempotencyKey, Value)],
        claim_for: Duration,
    ) -> StoreResult<Vec<Begin>> {
        super::sql::begin_many(self, requests, claim_for).await
    }

    async fn complete(&self, claim: &Claim, outcome: &Value) -> StoreResult<()> {
        self.complete_many(&[(claim.clone(), outcome.clone())])
            .await
    }

    async fn complete_many(&self, completions: &[(Claim, Value)]) -> StoreResult<()> {
        if completions.is_empty() {
            return Ok(());
        }
        let mut sorted: Vec<&(Claim, Value)> = completions.iter().collect();
        sorted.sort_by(|a, b| a.0.key.cmp(&b.0.key));
        let keys: Vec<&str> = sorted.iter().map(|(c, _)| c.key.as_str()).collect();
        let outcomes: Vec<Value> = sorted.iter().map(|(_, o)| o.clone()).collect();
        let rows = sqlx::query(&self.sql().complete)
            .bind(keys)
            .bind(outcomes)
            .bind(self.now())
            .fetch_all(self.pool())
            .await
            .map_err(db_err("complete"))?;
        let done: std::collections::HashSet<String> = rows
            .iter()
            .map(|r| get::<String>(r, "key"))
            .collect::<StoreResult<_>>()?;
        match sorted.iter().find(|(c, _)| !done.contains(c.key.as_str())) {
            Some((c, _)) => Err(StoreError::ClaimLost { key: c.key.clone() }),
            None => Ok(()),
        }
    }

    async fn abandon(&self, claim: &Claim, reason: Option<&str>) -> StoreResult<()> {
        self.release(claim, LedgerState::Abandoned, reason).await
    }

    async fn fail(&self, claim: &Claim, error: &str) -> StoreResult<()> {
        self.release(claim, LedgerState::Failed, Some(error)).await
    }

    async fn purge_ledger(&self, before: DateTime<Utc>, mode: PurgeMode) -> StoreResult<u64> {
        self.purge("oc_ledger", "state = 1 AND updated_at < $1", before, mode)
            .await
    }

    async fn entry(&self, key: &IdempotencyKey) -> StoreResult<Option<LedgerEntry>> {
        let row = sqlx::query(&self.sql().ledger_read)
            .bind(key.as_str())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err("ledger entry"))?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(LedgerEntry {
            key: key.clone(),
            state: ledger_from_code(get(&row, "state")?)?,
            intent: get(&row, "intent")?,
            outcome: get(&row, "outcome")?,
            attempts: to_u32("attempts", i64::from(get::<i32>(&row, "attempts")?))?,
            last_error: get(&row, "last_error")?,
            claimed_until: get(&row, "claimed_until")?,
            updated_at: get(&row, "updated_at")?,
        }))
    }
}

#[async_trait]
impl super::sql::LedgerSql for PostgresStore {
    fn ledger_now(&self) -> DateTime<Utc> {
        self.now()
    }

    async fn upsert_claims(
        &self,
        claims: &[(&IdempotencyKey, &Value, Uuid)],
        claimed_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<super::sql::Granted>> {
        let keys: Vec<&str> = claims.iter().map(|(k, _, _)| k.as_str()).collect();
        let intents: Vec<Value> = claims.iter().map(|(_, i, _)| (*i).clone()).collect();
        let tokens: Vec<Uuid> = claims.iter().map(|(_, _, t)| *t).collect();
        let rows = sqlx::query(&self.sql().begin)
            .bind(keys)
            .bind(intents)
            .bind(tokens)
            .bind(claimed_until)
            .bind(now)
            .fetch_all(self.pool())
            .await
            .map_err(db_err("begin"))?;
        rows.iter()
            .map(|r| {
                Ok(super::sql::Granted {
                    key: get(r, "key")?,
                    attempts: i64::from(get::<i32>(r, "attempts")?),
                    last_error: get(r, "last_error")?,
                })
            })
            .collect()
    }

    async fn read_entry(&self, key: &IdempotencyKey) -> StoreResult<Option<LedgerEntry>> {
        self.entry(key).await
    }
}

impl PostgresStore {
    async fn release(
        &self,
        claim: &Claim,
        state: LedgerState,
        error: Option<&str>,
    ) -> StoreResult<()> {
        let done = sqlx::query(&self.sql().release)
            .bind(ledger_code(state))
            .bind(error)
            .bind(self.now())
            .bind(claim.key.as_str())
            .bind(claim.token)
            .execute(self.pool())
            .await
            .map_err(db_err("release claim"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::ClaimLost {
                key: claim.key.clone(),
            });
        }
        Ok(())
    }
}

fn checkpoint_from_row(row: &PgRow) -> StoreResult<Checkpoint> {
    Ok(Checkpoint {
        cursor: get(row, "cursor")?,
        version: to_u64("version", get(row, "version")?)?,
        updated_at: get(row, "updated_at")?,
    })
}

#[async_trait]
impl Checkpoints for PostgresStore {
    async fn checkpoint(&self, key: &CheckpointKey) -> StoreResult<Option<Checkpoint>> {
        sqlx::query(&self.sql().cp_get)
            .bind(&key.connector)
            .bind(&key.stream)
            .bind(key.legal_entity.as_str())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err("get checkpoint"))?
            .as_ref()
            .map(checkpoint_from_row)
            .transpose()
    }

    async fn commit_checkpoint(
        &self,
        key: &CheckpointKey,
        expected_version: u64,
        cursor: &Value,
    ) -> StoreResult<Checkpoint> {
        let sql = if expected_version == 0 {
            &self.sql().cp_insert
        } else {
            &self.sql().cp_update
        };
        let row = sqlx::query(sql)
            .bind(&key.connector)
            .bind(&key.stream)
            .bind(key.legal_entity.as_str())
            .bind(cursor)
            .bind(to_i64("checkpoint version", expected_version)?)
            .bind(self.now())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err("commit checkpoint"))?;
        match row {
            Some(row) => checkpoint_from_row(&row),
            None => {
                let actual = self.checkpoint(key).await?.map_or(0, |c| c.version);
                Err(StoreError::CheckpointConflict {
                    expected: expected_version,
                    actual,
                })
            }
        }
    }

    async fn reset_checkpoint(&self, key: &CheckpointKey) -> StoreResult<Checkpoint> {
        let row = sqlx::query(&self.sql().cp_reset)
            .bind(&key.connector)
            .bind(&key.stream)
            .bind(key.legal_entity.as_str())
            .bind(self.now())
            .fetch_one(self.pool())
            .await
            .map_err(db_err("reset checkpoint"))?;
        checkpoint_from_row(&row)
    }
}

fn audit_from_row(row: &PgRow) -> StoreResult<AuditRecord> {
    let opt = |col: &'static str| get::<Option<String>>(row, col);
    let mut event = AuditEvent::new(AuditKind::parse(&get::<String>(row, "kind")?));
    event.correlation_id = opt("correlation_id")?
        .map(|s| CorrelationId::new(s).map_err(|e| StoreError::corrupt("correlation id", e)))
        .transpose()?;
    event.idempotency_key = opt("idempotency_key")?
        .map(|s| IdempotencyKey::new(s).map_err(|e| StoreError::corrupt("idempotency key", e)))
        .transpose()?;
    event.message_id = get::<Option<Uuid>>(row, "message_id")?.map(MessageId::from_uuid);
    event.actor = opt("actor")?;
    event.credential_label = opt("credential_label")?;
    event.step = opt("step")?;
    event.outcome = opt("outcome")?;
    event.details = get(row, "details")?;
    Ok(AuditRecord {
        seq: to_u64("seq", get(row, "seq")?)?,
        at: get(row, "at")?,
        event,
    })
}

#[async_trait]
impl AuditLog for PostgresStore {
    async fn append(&self, mut event: AuditEvent) -> StoreResult<u64> {
        self.shared.options.redactor.redact(&mut event.details);
        let seq: i64 = sqlx::query_scalar(&self.sql().audit_append)
            .bind(self.now())
            .bind(event.kind.as_str())
            .bind(event.correlation_id.as_ref().map(|c| c.as_str()))
            .bind(event.idempotency_key.as_ref().map(|k| k.as_str()))
            .bind(event.message_id.map(|m| m.as_uuid()))
            .bind(event.actor.as_deref())
            .bind(event.credential_label.as_deref())
            .bind(event.step.as_deref())
            .bind(event.outcome.as_deref())
            .bind(&event.details)
            .fetch_one(self.pool())
            .await
            .map_err(db_err("append audit"))?;
        to_u64("seq", seq)
    }

    async fn append_many(&self, events: Vec<AuditEvent>) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let at = self.now();
        let mut tx = self.pool().begin().await.map_err(db_err("append audit"))?;
        for mut event in events {
            self.shared.options.redactor.redact(&mut event.details);
            sqlx::query(&self.sql().audit_append)
                .bind(at)
                .bind(event.kind.as_str())
                .bind(event.correlation_id.as_ref().map(|c| c.as_str()))
                .bind(event.idempotency_key.as_ref().map(|k| k.as_str()))
                .bind(event.message_id.map(|m| m.as_uuid()))
                .bind(event.actor.as_deref())
                .bind(event.credential_label.as_deref())
                .bind(event.step.as_deref())
                .bind(event.outcome.as_deref())
                .bind(&event.details)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err("append audit"))?;
        }
        tx.commit().await.map_err(db_err("append audit"))?;
        Ok(())
    }

    async fn purge_audit(&self, before: DateTime<Utc>, mode: PurgeMode) -> StoreResult<u64> {
        self.purge("oc_audit", "at < $1", before, mode).await
    }

    async fn query_audit(&self, query: &AuditQuery) -> StoreResult<Vec<AuditRecord>> {
        let rows = sqlx::query(&self.sql().audit_query)
            .bind(query.correlation_id.as_ref().map(|c| c.as_str()))
            .bind(query.idempotency_key.as_ref().map(|k| k.as_str()))
            .bind(query.message_id.map(|m| m.as_uuid()))
            .bind(query.from)
            .bind(query.until)
            .bind(to_i64("seq", query.after_seq.unwrap_or(0))?)
            .bind(limit(query.effective_limit()))
            .fetch_all(self.pool())
            .await
            .map_err(db_err("query audit"))?;
        rows.iter().map(audit_from_row).collect()
    }
}

fn fact_from_row(kind: &FactKind, row: &PgRow) -> StoreResult<StoredFact> {
    Ok(StoredFact {
        kind: kind.clone(),
        subject: FactSubject::new(get::<String>(row, "subject")?)
            .map_err(|e| StoreError::corrupt("fact subject", e))?,
        value: get(row, "value")?,
        recorded_at: get(row, "recorded_at")?,
        position: to_u64("fact position", get(row, "seq")?)?,
    })
}

#[async_trait]
impl Facts for PostgresStore {
    async fn record_fact(
        &self,
        key: &FactKey,
        aliases: &[FactSubject],
        value: &Value,
    ) -> StoreResult<Recorded> {
        let now = self.now();
        let mut tx = self.pool().begin().await.map_err(db_err("record fact"))?;
        let row = sqlx::query(&self.sql().fact_insert)
            .bind(key.kind.as_str())
            .bind(key.subject.as_str())
            .bind(value)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err("record fact"))?;
        let Some(row) = row else {
            // The key is taken (by a fact or an alias, committed: a concurrent insert of the
            // same key waits for the other transaction to end).
            tx.rollback().await.map_err(db_err("record fact"))?;
            return match self.fact(key).await? {
                Some(known) => Ok(Recorded::Existing(known)),
                None => Err(StoreError::Corrupt {
                    what: format!("fact {key}: an alias of a missing fact"),
                    source: None,
                }),
            };
        };
        let fact = fact_from_row(&key.kind, &row)?;
        if !aliases.is_empty() {
            let aliases: Vec<&str> = aliases.iter().map(FactSubject::as_str).collect();
            sqlx::query(&self.sql().fact_aliases)
                .bind(key.kind.as_str())
                .bind(key.subject.as_str())
                .bind(&aliases)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db_err("record fact"))?;
        }
        tx.commit().await.map_err(db_err("record fact"))?;
        Ok(Recorded::New(fact))
    }

    async fn fact(&self, key: &FactKey) -> StoreResult<Option<StoredFact>> {
        sqlx::query(&self.sql().fact_read)
            .bind(key.kind.as_str())
            .bind(key.subject.as_str())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err("read fact"))?
            .map(|row| fact_from_row(&key.kind, &row))
            .transpose()
    }

    async fn list_facts(&self, filter: &FactFilter) -> StoreResult<FactPage> {
        let n = filter.effective_limit();
        let rows = sqlx::query(&self.sql().fact_list)
            .bind(filter.kind.as_str())
            .bind(to_i64("fact position", filter.after.unwrap_or(0))?)
            .bind(limit(n))
            .fetch_all(self.pool())
            .await
            .map_err(db_err("list facts"))?;
        let items = rows
            .iter()
            .map(|row| fact_from_row(&filter.kind, row))
            .collect::<StoreResult<_>>()?;
        Ok(FactPage::new(items, n))
    }
}
