//! The embedded state store: one SQLite file in WAL mode (feature `sqlite`, on by default).
//!
//! One process needs nothing else. The file is opened with `journal_mode=WAL`,
//! `synchronous=NORMAL` (a committed transaction survives a crash of the process; the last
//! transactions before a power cut may be lost) and a busy timeout, so that another process
//! briefly holding the write lock is waited for rather than reported. The store serialises its
//! own statements on one connection, which is how SQLite writes anyway; a batch of leases or
//! acks is a single statement.
//!
//! Tables are prefixed `oc_` and created and migrated on open; the schema version is kept in
//! `oc_schema_version`. Facts are in `oc_facts`, which no purge touches.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use serde_json::Value;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Connection, Row};
use uuid::Uuid;

use super::sql::{
    STATUS_ACTIVE, STATUS_DEAD, STATUS_DONE, class_code, class_from_code, db_err, decode_json_text,
    from_micros, ledger_code, ledger_from_code, like_contains, to_i64, to_micros, to_u32, to_u64,
};
use crate::envelope::{IdempotencyKey, JsonEnvelope, MessageId};
use crate::store::{
    AuditEvent, AuditKind, AuditLog, AuditQuery, AuditRecord, Begin, Checkpoint, CheckpointKey,
    Checkpoints, Claim, DeadLetter, DeadLetterFilter, DeadLetterId, DeadLetters, FactFilter,
    FactKey, FactKind, FactPage, FactSubject, Facts, Failure, FailureClass, IdempotencyLedger,
    Lease, LeasedMessage, LedgerEntry, LedgerState, MessageState, PurgeMode, QueueEntry,
    QueueFilter, QueuePage, QueueState, QueueStats, QueuedMessage, ReasonCount, Recorded, Replay,
    StoreError, StoreOptions, StoreResult, StoredFact, WorkQueue, add_duration,
    quarantine_envelope, undecodable_reason,
};

/// Migrations, in order; the index + 1 is the schema version.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/sqlite/0001_init.sql"),
    include_str!("migrations/sqlite/0002_runtime.sql"),
    include_str!("migrations/sqlite/0003_facts.sql"),
];

/// The embedded state store. Cheap to clone: clones share the connection.
///
/// ```
/// use odoo_connect_sync::store::sqlite::SqliteStore;
/// use odoo_connect_sync::store::WorkQueue;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = std::env::temp_dir().join(format!("oc-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let store = SqliteStore::open(dir.join("state.db")).await?;
/// assert_eq!(store.stats().await?.depth, 0);
/// store.close().await;
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct SqliteStore {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    pool: SqlitePool,
    path: Option<PathBuf>,
    options: StoreOptions,
}

impl SqliteStore {
    /// Opens (creating if needed) the store in the file at `path`.
    pub async fn open(path: impl AsRef<Path>) -> StoreResult<Self> {
        Self::open_with(path, StoreOptions::default()).await
    }

    /// Opens the store in the file at `path` with `options` (clock, redactor).
    pub async fn open_with(path: impl AsRef<Path>, options: StoreOptions) -> StoreResult<Self> {
        let path = path.as_ref().to_path_buf();
        let connect = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        Self::connect(connect, Some(path), options).await
    }

    /// A store in memory, gone when the last clone is dropped.
    pub async fn open_in_memory() -> StoreResult<Self> {
        Self::open_in_memory_with(StoreOptions::default()).await
    }

    /// A store in memory with `options`.
    pub async fn open_in_memory_with(options: StoreOptions) -> StoreResult<Self> {
        let connect = SqliteConnectOptions::from_str("sqlite::memory:")
            .map_err(db_err("open"))?
            .foreign_keys(true);
        Self::connect(connect, None, options).await
    }

    async fn connect(
        connect: SqliteConnectOptions,
        path: Option<PathBuf>,
        options: StoreOptions,
    ) -> StoreResult<Self> {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(connect)
            .await
            .map_err(db_err("open"))?;
        migrate(&pool).await?;
        Ok(Self {
            shared: Arc::new(Shared {
                pool,
                path,
                options,
            }),
        })
    }

    /// The file, or `None` in memory.
    pub fn path(&self) -> Option<&Path> {
        self.shared.path.as_deref()
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &StoreOptions {
        &self.shared.options
    }

    /// The schema version of the open database.
    pub async fn schema_version(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM oc_schema_version")
            .fetch_one(&self.shared.pool)
            .await
            .map_err(db_err("read schema version"))
    }

    /// Closes the connection (checkpointing the WAL); clones become unusable.
    pub async fn close(&self) {
        self.shared.pool.close().await;
    }

    fn now(&self) -> DateTime<Utc> {
        self.shared.options.clock.now()
    }

    fn pool(&self) -> &SqlitePool {
        &self.shared.pool
    }
}

/// Boxed so that the future is proven `Send` here, where its types are concrete.
fn migrate(pool: &SqlitePool) -> BoxFuture<'_, StoreResult<()>> {
    Box::pin(migrate_inner(pool))
}

async fn migrate_inner(pool: &SqlitePool) -> StoreResult<()> {
    let mut conn = pool.acquire().await.map_err(db_err("migrate"))?;
    let mut tx = conn
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(db_err("migrate"))?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS oc_schema_version (
             version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
    )
    .execute(&mut *tx)
    .await
    .map_err(db_err("migrate"))?;
    let current: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM oc_schema_version")
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
        apply_migration(&mut tx, version, sql)
            .await
            .map_err(|e| StoreError::Migration {
                version,
                source: Box::new(e),
            })?;
    }
    tx.commit().await.map_err(db_err("migrate"))
}

fn apply_migration<'a>(
    conn: &'a mut sqlx::SqliteConnection,
    version: i64,
    sql: &'static str,
) -> BoxFuture<'a, Result<(), sqlx::Error>> {
    Box::pin(async move {
        sqlx::Executor::execute(&mut *conn, sql).await?;
        sqlx::query("INSERT INTO oc_schema_version (version, applied_at) VALUES (?1, ?2)")
            .bind(version)
            .bind(Utc::now().timestamp_micros())
            .execute(&mut *conn)
            .await?;
        Ok(())
    })
}

fn json_text(what: &'static str, v: &impl serde::Serialize) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|source| StoreError::Encode { what, source })
}

fn parse_uuid(what: &'static str, s: &str) -> StoreResult<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::corrupt(what, e))
}

fn get<'r, T>(row: &'r SqliteRow, col: &'static str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    row.try_get(col)
        .map_err(|e| StoreError::corrupt(format!("column {col}"), e))
}

fn leased_from_row(row: &SqliteRow) -> StoreResult<(i64, LeasedMessage)> {
    let raw: Vec<u8> = get(row, "raw_envelope")?;
    let envelope: JsonEnvelope =
        serde_json::from_slice(&raw).map_err(|e| StoreError::corrupt("envelope", e))?;
    let token = parse_uuid("lease token", &get::<String>(row, "lease_token")?)?;
    let msg = LeasedMessage {
        lease: Lease {
            message_id: envelope.id,
            token,
            expires_at: from_micros("lease", get(row, "lease_expires")?)?,
        },
        envelope,
        attempts: to_u32("attempts", get(row, "attempts")?)?,
        deliveries: to_u32("deliveries", get(row, "deliveries")?)?,
        enqueued_at: from_micros("enqueued_at", get(row, "enqueued_at")?)?,
        last_error: get(row, "last_error")?,
    };
    Ok((get(row, "seq")?, msg))
}

fn lease_pairs(leases: &[Lease]) -> StoreResult<String> {
    let pairs: Vec<[String; 2]> = leases
        .iter()
        .map(|l| [l.message_id.to_string(), l.token.to_string()])
        .collect();
    json_text("leases", &pairs)
}

#[async_trait]
impl WorkQueue for SqliteStore {
    async fn enqueue_batch(&self, messages: &[JsonEnvelope]) -> StoreResult<usize> {
        if messages.is_empty() {
            return Ok(0);
        }
        let now = to_micros(self.now());
        let batch = json_text("envelopes", &messages)?;
        let done = sqlx::query(
            "INSERT INTO oc_queue (id, lane, envelope, enqueued_at, not_before)
             SELECT value ->> '$.id', value ->> '$.lane', value, ?1, ?1
             FROM json_each(?2) WHERE true ORDER BY key
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(now)
        .bind(batch)
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
        let expires = add_duration(now, lease_for)?;
        let rows = sqlx::query(
            "UPDATE oc_queue
             SET lease_token = ?1, lease_owner = ?2, lease_expires = ?3,
                 deliveries = deliveries + 1
             WHERE seq IN (
                 SELECT c.seq FROM oc_queue c
                 WHERE c.status = 0 AND c.not_before <= ?4
                   AND (c.lease_expires IS NULL OR c.lease_expires <= ?4)
                   AND NOT EXISTS (SELECT 1 FROM oc_queue p
                                   WHERE p.lane = c.lane AND p.status = 0 AND p.seq < c.seq)
                 ORDER BY c.seq LIMIT ?5)
             RETURNING seq, id, lane, CAST(envelope AS BLOB) AS raw_envelope, lease_token,
                       lease_expires, attempts, deliveries, enqueued_at, last_error",
        )
        .bind(Uuid::new_v4().to_string())
        .bind(worker)
        .bind(to_micros(expires))
        .bind(to_micros(now))
        .bind(i64::try_from(max).unwrap_or(i64::MAX))
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
        let rows = sqlx::query(
            "UPDATE oc_queue SET lease_token = NULL, lease_owner = NULL, lease_expires = NULL
             FROM (SELECT value ->> 0 AS id, value ->> 1 AS tok FROM json_each(?1)) AS a
             WHERE oc_queue.id = a.id AND oc_queue.lease_token = a.tok AND oc_queue.status = 0
             RETURNING oc_queue.id",
        )
        .bind(lease_pairs(leases)?)
        .fetch_all(self.pool())
        .await
        .map_err(db_err("release"))?;
        rows.iter()
            .map(|r| {
                let id = get::<String>(r, "id")?;
                parse_uuid("message id", &id).map(MessageId::from_uuid)
            })
            .collect()
    }

    async fn list_messages(&self, filter: &QueueFilter) -> StoreResult<QueuePage> {
        let now = to_micros(self.now());
        let limit = filter.effective_limit();
        let rows = sqlx::query(
            "SELECT seq, id, lane, envelope, status, enqueued_at, not_before, lease_owner,
                    lease_expires, attempts, deliveries, last_error, finished_at
             FROM oc_queue
             WHERE seq > ?1
               AND (?2 IS NULL OR (json_valid(envelope) AND
                    COALESCE(envelope ->> '$.payload.flow', envelope ->> '$.source') = ?2))
               AND (?3 IS NULL OR lane = ?3)
               AND (?4 IS NULL OR enqueued_at < ?4)
               AND (CASE ?5
                    WHEN 'unfinished' THEN status = 0
                    WHEN 'ready' THEN status = 0 AND not_before <= ?6
                         AND (lease_expires IS NULL OR lease_expires <= ?6)
                    WHEN 'leased' THEN status = 0 AND lease_expires > ?6
                    WHEN 'scheduled' THEN status = 0 AND not_before > ?6
                         AND (lease_expires IS NULL OR lease_expires <= ?6)
                    WHEN 'done' THEN status = 1
                    WHEN 'dead_lettered' THEN status = 2
                    ELSE true END)
             ORDER BY seq LIMIT ?7",
        )
        .bind(to_i64("cursor", filter.after.unwrap_or(0))?)
        .bind(filter.flow.as_deref())
        .bind(filter.lane.as_ref().map(|l| l.as_str()))
        .bind(filter.enqueued_before.map(to_micros))
        .bind(filter.state.map(QueueState::as_str))
        .bind(now)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await
        .map_err(db_err("list messages"))?;
        let items = rows
            .iter()
            .map(|row| {
                Ok(QueueEntry {
                    position: to_u64("seq", get(row, "seq")?)?,
                    message: queued_from_row(row, self.now()).or_else(|e| {
                        // A row not leased yet may be undecodable: list its stand-in.
                        let id = get::<String>(row, "id")
                            .ok()
                            .and_then(|s| Uuid::parse_str(&s).ok())
                            .map(MessageId::from_uuid);
                        let lane: String = get(row, "lane").unwrap_or_default();
                        let mut m = queued_from_row_with(row, self.now(), |_| {
                            quarantine_envelope(id, &lane)
                        })?;
                        m.last_error.get_or_insert_with(|| undecodable_reason(&e));
                        Ok::<_, StoreError>(m)
                    })?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(QueuePage::new(items, limit))
    }

    async fn purge_finished(&self, before: DateTime<Utc>, mode: PurgeMode) -> StoreResult<u64> {
        self.purge("oc_queue", "status <> 0 AND finished_at < ?1", before, mode)
            .await
    }

    async fn heartbeat(&self, leases: &[Lease], extend_for: Duration) -> StoreResult<Vec<Lease>> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let expires = add_duration(self.now(), extend_for)?;
        let rows = sqlx::query(
            "UPDATE oc_queue SET lease_expires = ?1
             FROM (SELECT value ->> 0 AS id, value ->> 1 AS tok FROM json_each(?2)) AS a
             WHERE oc_queue.id = a.id AND oc_queue.lease_token = a.tok AND oc_queue.status = 0
             RETURNING oc_queue.id",
        )
        .bind(to_micros(expires))
        .bind(lease_pairs(leases)?)
        .fetch_all(self.pool())
        .await
        .map_err(db_err("heartbeat"))?;
        let kept: Vec<String> = rows
            .iter()
            .map(|r| get::<String>(r, "id"))
            .collect::<StoreResult<_>>()?;
        Ok(leases
            .iter()
            .filter(|l| kept.contains(&l.message_id.to_string()))
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
        let rows = sqlx::query(
            "UPDATE oc_queue
             SET status = ?1, finished_at = ?2, lease_token = NULL, lease_owner = NULL,
                 lease_expires = NULL
             FROM (SELECT value ->> 0 AS id, value ->> 1 AS tok FROM json_each(?3)) AS a
             WHERE oc_queue.id = a.id AND oc_queue.lease_token = a.tok AND oc_queue.status = 0
             RETURNING oc_queue.id",
        )
        .bind(STATUS_DONE)
        .bind(to_micros(self.now()))
        .bind(lease_pairs(leases)?)
        .fetch_all(self.pool())
        .await
        .map_err(db_err("ack"))?;
        rows.iter()
            .map(|r| {
                let id = get::<String>(r, "id")?;
                parse_uuid("message id", &id).map(MessageId::from_uuid)
            })
            .collect()
    }

    async fn retry_later(&self, lease: &Lease, delay: Duration, error: &str) -> StoreResult<()> {
        let not_before = add_duration(self.now(), delay)?;
        let done = sqlx::query(
            "UPDATE oc_queue
             SET not_before = ?1, attempts = attempts + 1, last_error = ?2,
                 lease_token = NULL, lease_owner = NULL, lease_expires = NULL
             WHERE id = ?3 AND lease_token = ?4 AND status = 0",
        )
        .bind(to_micros(not_before))
        .bind(error)
        .bind(lease.message_id.to_string())
        .bind(lease.token.to_string())
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
        let mut conn = self.pool().acquire().await.map_err(db_err("dead letter"))?;
        let mut tx = conn
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_err("dead letter"))?;
        let row = sqlx::query(
            "UPDATE oc_queue
             SET status = ?1, finished_at = ?2, lease_token = NULL, lease_owner = NULL,
                 lease_expires = NULL
             WHERE id = ?3 AND lease_token = ?4 AND status = 0
             RETURNING envelope, attempts",
        )
        .bind(STATUS_DEAD)
        .bind(to_micros(now))
        .bind(lease.message_id.to_string())
        .bind(lease.token.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err("dead letter"))?
        .ok_or(StoreError::LeaseLost {
            message_id: lease.message_id,
        })?;
        let envelope: JsonEnvelope =
            decode_json_text("envelope", &get::<String>(&row, "envelope")?)?;
        let attempts = to_u32("attempts", get(&row, "attempts")?)? + 1;
        let id = insert_dead_letter(&mut tx, &envelope, &failure, attempts, now, None).await?;
        tx.commit().await.map_err(db_err("dead letter"))?;
        Ok(id)
    }

    async fn get(&self, id: MessageId) -> StoreResult<Option<QueuedMessage>> {
        let row = sqlx::query(
            "SELECT envelope, status, enqueued_at, not_before, lease_owner, lease_expires,
                    attempts, deliveries, last_error, finished_at
             FROM oc_queue WHERE id = ?1",
        )
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await
        .map_err(db_err("get message"))?;
        row.map(|row| queued_from_row(&row, self.now())).transpose()
    }

    async fn stats(&self) -> StoreResult<QueueStats> {
        let now = to_micros(self.now());
        let row = sqlx::query(
            "SELECT COUNT(*) AS depth,
                    COALESCE(SUM(lease_expires IS NOT NULL AND lease_expires > ?1), 0) AS in_flight,
                    COALESCE(SUM((lease_expires IS NULL OR lease_expires <= ?1)
                                 AND not_before > ?1), 0) AS scheduled,
                    MIN(enqueued_at) AS oldest
             FROM oc_queue WHERE status = 0",
        )
        .bind(now)
        .fetch_one(self.pool())
        .await
        .map_err(db_err("stats"))?;
        Ok(QueueStats {
            depth: to_u64("depth", get(&row, "depth")?)?,
            in_flight: to_u64("in_flight", get(&row, "in_flight")?)?,
            scheduled: to_u64("scheduled", get(&row, "scheduled")?)?,
            oldest_enqueued_at: get::<Option<i64>>(&row, "oldest")?
                .map(|t| from_micros("oldest", t))
                .transpose()?,
        })
    }
}

fn queued_from_row(row: &SqliteRow, now: DateTime<Utc>) -> StoreResult<QueuedMessage> {
    queued_from_row_with(row, now, |row| {
        decode_json_text("envelope", &get::<String>(row, "envelope")?)
    })
}

fn queued_from_row_with(
    row: &SqliteRow,
    now: DateTime<Utc>,
    envelope: impl FnOnce(&SqliteRow) -> StoreResult<JsonEnvelope>,
) -> StoreResult<QueuedMessage> {
    let status: i16 = get(row, "status")?;
    let finished = |row: &SqliteRow| -> StoreResult<DateTime<Utc>> {
        from_micros(
            "finished_at",
            get::<Option<i64>>(row, "finished_at")?.unwrap_or_default(),
        )
    };
    let lease_expires: Option<i64> = get(row, "lease_expires")?;
    let not_before = from_micros("not_before", get(row, "not_before")?)?;
    let state = match status {
        STATUS_DONE => MessageState::Done { at: finished(row)? },
        STATUS_DEAD => MessageState::DeadLettered { at: finished(row)? },
        STATUS_ACTIVE => match lease_expires {
            Some(exp) if exp > to_micros(now) => MessageState::Leased {
                owner: get::<Option<String>>(row, "lease_owner")?.unwrap_or_default(),
                expires_at: from_micros("lease_expires", exp)?,
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
        attempts: to_u32("attempts", get(row, "attempts")?)?,
        deliveries: to_u32("deliveries", get(row, "deliveries")?)?,
        enqueued_at: from_micros("enqueued_at", get(row, "enqueued_at")?)?,
        last_error: get(row, "last_error")?,
    })
}

impl SqliteStore {
    /// Parks a leased row that could not be decoded: the dead letter keeps its raw bytes, the
    /// queue row gets a stand-in envelope and frees its lane, in one transaction.
    async fn quarantine(&self, row: &SqliteRow, error: &StoreError) -> StoreResult<()> {
        let seq: i64 = get(row, "seq")?;
        let raw: Vec<u8> = get(row, "raw_envelope").unwrap_or_default();
        let id = get::<String>(row, "id")
            .ok()
            .and_then(|s| Uuid::parse_str(&s).ok())
            .map(MessageId::from_uuid);
        let lane: String = get(row, "lane").unwrap_or_default();
        let attempts = get::<i64>(row, "attempts").unwrap_or(0);
        let stand_in = quarantine_envelope(id, &lane)?;
        let failure = Failure::new(FailureClass::Technical, undecodable_reason(error))
            .with_context(serde_json::json!({"queue_seq": seq}));
        let now = self.now();
        tracing::error!(seq, error = %failure.reason, "quarantined an undecodable queue row");
        let mut conn = self.pool().acquire().await.map_err(db_err("quarantine"))?;
        let mut tx = conn
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_err("quarantine"))?;
        sqlx::query(
            "UPDATE oc_queue
             SET status = ?1, finished_at = ?2, lease_token = NULL, lease_owner = NULL,
                 lease_expires = NULL, envelope = ?3
             WHERE seq = ?4",
        )
        .bind(STATUS_DEAD)
        .bind(to_micros(now))
        .bind(json_text("envelope", &stand_in)?)
        .bind(seq)
        .execute(&mut *tx)
        .await
        .map_err(db_err("quarantine"))?;
        let attempts = u32::try_from(attempts).unwrap_or(0) + 1;
        insert_dead_letter(&mut tx, &stand_in, &failure, attempts, now, Some(&raw)).await?;
        tx.commit().await.map_err(db_err("quarantine"))
    }

    /// Deletes (or counts, in a dry run) the rows of `table` matching `condition` on `?1`.
    async fn purge(
        &self,
        table: &'static str,
        condition: &'static str,
        before: DateTime<Utc>,
        mode: PurgeMode,
    ) -> StoreResult<u64> {
        let before = to_micros(before);
        if mode.is_dry_run() {
            let n: i64 =
                sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE {condition}"))
                    .bind(before)
                    .fetch_one(self.pool())
                    .await
                    .map_err(db_err("purge"))?;
            return to_u64("count", n);
        }
        let mut conn = self.pool().acquire().await.map_err(db_err("purge"))?;
        let mut tx = conn
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_err("purge"))?;
        let audit = table == "oc_audit";
        if audit {
            sqlx::query("INSERT INTO oc_purge (id) VALUES (1)")
                .execute(&mut *tx)
                .await
                .map_err(db_err("purge"))?;
        }
        let done = sqlx::query(&format!("DELETE FROM {table} WHERE {condition}"))
            .bind(before)
            .execute(&mut *tx)
            .await
            .map_err(db_err("purge"))?;
        if audit {
            sqlx::query("DELETE FROM oc_purge")
                .execute(&mut *tx)
                .await
                .map_err(db_err("purge"))?;
        }
        tx.commit().await.map_err(db_err("purge"))?;
        Ok(done.rows_affected())
    }
}

async fn insert_dead_letter(
    conn: &mut sqlx::SqliteConnection,
    envelope: &JsonEnvelope,
    failure: &Failure,
    attempts: u32,
    now: DateTime<Utc>,
    raw: Option<&[u8]>,
) -> StoreResult<DeadLetterId> {
    let id = DeadLetterId::new();
    sqlx::query(
        "INSERT INTO oc_dead_letters (id, message_id, source, lane, idempotency_key, envelope,
             class, reason, errors, context, attempts, parked_at, raw)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )
    .bind(id.to_string())
    .bind(envelope.id.to_string())
    .bind(&envelope.source)
    .bind(envelope.lane.as_str())
    .bind(envelope.idempotency_key.as_str())
    .bind(json_text("envelope", envelope)?)
    .bind(class_code(failure.class))
    .bind(&failure.reason)
    .bind(json_text("errors", &failure.errors)?)
    .bind(json_text("context", &failure.context)?)
    .bind(i64::from(attempts))
    .bind(to_micros(now))
    .bind(raw)
    .execute(conn)
    .await
    .map_err(db_err("park dead letter"))?;
    Ok(id)
}

fn dead_letter_from_row(row: &SqliteRow) -> StoreResult<DeadLetter> {
    let replayed_by: Option<String> = get(row, "replayed_by")?;
    let replay = match replayed_by {
        Some(by) => Some(Replay {
            by,
            at: from_micros(
                "replayed_at",
                get::<Option<i64>>(row, "replayed_at")?.unwrap_or_default(),
            )?,
            message_id: get::<Option<String>>(row, "replay_message_id")?
                .map(|s| parse_uuid("replay message id", &s).map(MessageId::from_uuid))
                .transpose()?,
        }),
        None => None,
    };
    let mut failure = Failure::new(
        class_from_code(get(row, "class")?)?,
        get::<String>(row, "reason")?,
    );
    failure.errors = decode_json_text("errors", &get::<String>(row, "errors")?)?;
    failure.context = decode_json_text("context", &get::<String>(row, "context")?)?;
    Ok(DeadLetter {
        id: DeadLetterId::from_uuid(parse_uuid("dead letter id", &get::<String>(row, "id")?)?),
        envelope: decode_json_text("envelope", &get::<String>(row, "envelope")?)?,
        failure,
        attempts: to_u32("attempts", get(row, "attempts")?)?,
        parked_at: from_micros("parked_at", get(row, "parked_at")?)?,
        replay,
        raw: get(row, "raw")?,
    })
}

const DEAD_LETTER_COLUMNS: &str = "id, envelope, class, reason, errors, context, attempts, \
     parked_at, replayed_by, replayed_at, replay_message_id, raw";

#[async_trait]
impl DeadLetters for SqliteStore {
    async fn park(
        &self,
        envelope: &JsonEnvelope,
        failure: Failure,
        attempts: u32,
    ) -> StoreResult<DeadLetterId> {
        let mut conn = self.pool().acquire().await.map_err(db_err("park"))?;
        insert_dead_letter(&mut conn, envelope, &failure, attempts, self.now(), None).await
    }

    async fn dead_letter_by_id(&self, id: DeadLetterId) -> StoreResult<Option<DeadLetter>> {
        let sql = format!("SELECT {DEAD_LETTER_COLUMNS} FROM oc_dead_letters WHERE id = ?1");
        sqlx::query(&sql)
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err("get dead letter"))?
            .as_ref()
            .map(dead_letter_from_row)
            .transpose()
    }

    async fn list_dead_letters(&self, filter: &DeadLetterFilter) -> StoreResult<Vec<DeadLetter>> {
        let sql = format!(
            "SELECT {DEAD_LETTER_COLUMNS} FROM oc_dead_letters
             WHERE (?1 IS NULL OR source = ?1)
               AND (?2 IS NULL OR reason LIKE ?2 ESCAPE '\\')
               AND (?3 IS NULL OR parked_at >= ?3)
               AND (?4 IS NULL OR parked_at < ?4)
               AND (?5 IS NULL OR lane = ?5)
               AND (?6 IS NULL OR idempotency_key = ?6)
               AND (?7 IS NULL OR class = ?7)
               AND (?8 IS NULL OR (replayed_by IS NOT NULL) = ?8)
             ORDER BY seq LIMIT ?9"
        );
        let rows = sqlx::query(&sql)
            .bind(filter.source.as_deref())
            .bind(filter.reason_contains.as_deref().map(like_contains))
            .bind(filter.parked_from.map(to_micros))
            .bind(filter.parked_until.map(to_micros))
            .bind(filter.lane.as_ref().map(|l| l.as_str()))
            .bind(filter.idempotency_key.as_ref().map(|k| k.as_str()))
            .bind(filter.class.map(class_code))
            .bind(filter.replayed)
            .bind(i64::try_from(filter.effective_limit()).unwrap_or(i64::MAX))
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
        let done = sqlx::query(
            "UPDATE oc_dead_letters SET replayed_by = ?1, replayed_at = ?2, replay_message_id = ?3
             WHERE id = ?4",
        )
        .bind(actor)
        .bind(to_micros(self.now()))
        .bind(message_id.map(|m| m.to_string()))
        .bind(id.to_string())
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
            "replayed_by IS NOT NULL AND replayed_at < ?1",
            before,
            mode,
        )
        .await
    }

    async fn count_by_reason(&self) -> StoreResult<Vec<ReasonCount>> {
        let rows = sqlx::query(
            "SELECT class, reason, COUNT(*) AS n FROM oc_dead_letters
             WHERE replayed_by IS NULL GROUP BY class, reason
             ORDER BY n DESC, reason, class",
        )
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
impl IdempotencyLedger for SqliteStore {
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
        let batch: Vec<Value> = completions
            .iter()
            .map(|(c, o)| serde_json::json!([c.key.as_str(), o]))
            .collect();
        let rows = sqlx::query(
            "UPDATE oc_ledger
             SET outcome = CASE WHEN state = 1 THEN outcome ELSE x.o END,
                 updated_at = CASE WHEN state = 1 THEN updated_at ELSE ?1 END,
                 state = 1
             FROM (SELECT value ->> 0 AS k, value -> 1 AS o FROM json_each(?2)) AS x
             WHERE oc_ledger.key = x.k
             RETURNING oc_ledger.key",
        )
        .bind(to_micros(self.now()))
        .bind(json_text("outcomes", &batch)?)
        .fetch_all(self.pool())
        .await
        .map_err(db_err("complete"))?;
        let done: std::collections::HashSet<String> = rows
            .iter()
            .map(|r| get::<String>(r, "key"))
            .collect::<StoreResult<_>>()?;
        match completions
            .iter()
            .find(|(c, _)| !done.contains(c.key.as_str()))
        {
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
        self.purge("oc_ledger", "state = 1 AND updated_at < ?1", before, mode)
            .await
    }

    async fn entry(&self, key: &IdempotencyKey) -> StoreResult<Option<LedgerEntry>> {
        let row = sqlx::query(
            "SELECT state, intent, outcome, attempts, last_error, claimed_until, updated_at
             FROM oc_ledger WHERE key = ?1",
        )
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
            intent: decode_json_text("intent", &get::<String>(&row, "intent")?)?,
            outcome: get::<Option<String>>(&row, "outcome")?
                .map(|s| decode_json_text("outcome", &s))
                .transpose()?,
            attempts: to_u32("attempts", get(&row, "attempts")?)?,
            last_error: get(&row, "last_error")?,
            claimed_until: from_micros("claimed_until", get(&row, "claimed_until")?)?,
            updated_at: from_micros("updated_at", get(&row, "updated_at")?)?,
        }))
    }
}

#[async_trait]
impl super::sql::LedgerSql for SqliteStore {
    fn ledger_now(&self) -> DateTime<Utc> {
        self.now()
    }

    async fn upsert_claims(
        &self,
        claims: &[(&IdempotencyKey, &Value, Uuid)],
        claimed_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<super::sql::Granted>> {
        let batch: Vec<Value> = claims
            .iter()
            .map(|(k, i, t)| serde_json::json!([k.as_str(), i, t.to_string()]))
            .collect();
        let rows = sqlx::query(
            "INSERT INTO oc_ledger (key, state, intent, attempts, claim_token, claimed_until,
                 created_at, updated_at)
             SELECT j.value ->> 0, 0, j.value -> 1, 1, j.value ->> 2, ?1, ?2, ?2
             FROM json_each(?3) AS j WHERE true ORDER BY j.key
             ON CONFLICT (key) DO UPDATE SET state = 0, intent = excluded.intent,
                 attempts = oc_ledger.attempts + 1, claim_token = excluded.claim_token,
                 claimed_until = excluded.claimed_until, updated_at = excluded.updated_at
             WHERE oc_ledger.state IN (2, 3)
                OR (oc_ledger.state = 0 AND oc_ledger.claimed_until <= ?2)
             RETURNING key, attempts, last_error",
        )
        .bind(to_micros(claimed_until))
        .bind(to_micros(now))
        .bind(json_text("claims", &batch)?)
        .fetch_all(self.pool())
        .await
        .map_err(db_err("begin"))?;
        rows.iter()
            .map(|r| {
                Ok(super::sql::Granted {
                    key: get(r, "key")?,
                    attempts: get(r, "attempts")?,
                    last_error: get(r, "last_error")?,
                })
            })
            .collect()
    }

    async fn read_entry(&self, key: &IdempotencyKey) -> StoreResult<Option<LedgerEntry>> {
        self.entry(key).await
    }
}

impl SqliteStore {
    async fn release(
        &self,
        claim: &Claim,
        state: LedgerState,
        error: Option<&str>,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE oc_ledger SET state = ?1, last_error = COALESCE(?2, last_error),
                 updated_at = ?3
             WHERE key = ?4 AND claim_token = ?5 AND state = 0",
        )
        .bind(ledger_code(state))
        .bind(error)
        .bind(to_micros(self.now()))
        .bind(claim.key.as_str())
        .bind(claim.token.to_string())
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

fn checkpoint_from_row(row: &SqliteRow) -> StoreResult<Checkpoint> {
    Ok(Checkpoint {
        cursor: get::<Option<String>>(row, "cursor")?
            .map(|s| decode_json_text("cursor", &s))
            .transpose()?,
        version: to_u64("version", get(row, "version")?)?,
        updated_at: from_micros("updated_at", get(row, "updated_at")?)?,
    })
}

#[async_trait]
impl Checkpoints for SqliteStore {
    async fn checkpoint(&self, key: &CheckpointKey) -> StoreResult<Option<Checkpoint>> {
        sqlx::query(
            "SELECT cursor, version, updated_at FROM oc_checkpoints
             WHERE connector = ?1 AND stream = ?2 AND legal_entity = ?3",
        )
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
        let expected = to_i64("checkpoint version", expected_version)?;
        let sql = if expected_version == 0 {
            "INSERT INTO oc_checkpoints (connector, stream, legal_entity, cursor, version,
                 updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5 + 1, ?6)
             ON CONFLICT (connector, stream, legal_entity) DO NOTHING
             RETURNING cursor, version, updated_at"
        } else {
            "UPDATE oc_checkpoints SET cursor = ?4, version = ?5 + 1, updated_at = ?6
             WHERE connector = ?1 AND stream = ?2 AND legal_entity = ?3 AND version = ?5
             RETURNING cursor, version, updated_at"
        };
        let row = sqlx::query(sql)
            .bind(&key.connector)
            .bind(&key.stream)
            .bind(key.legal_entity.as_str())
            .bind(json_text("cursor", cursor)?)
            .bind(expected)
            .bind(to_micros(self.now()))
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
        let row = sqlx::query(
            "INSERT INTO oc_checkpoints (connector, stream, legal_entity, cursor, version,
                 updated_at)
             VALUES (?1, ?2, ?3, NULL, 1, ?4)
             ON CONFLICT (connector, stream, legal_entity) DO UPDATE
                 SET cursor = NULL, version = oc_checkpoints.version + 1,
                     updated_at = excluded.updated_at
             RETURNING cursor, version, updated_at",
        )
        .bind(&key.connector)
        .bind(&key.stream)
        .bind(key.legal_entity.as_str())
        .bind(to_micros(self.now()))
        .fetch_one(self.pool())
        .await
        .map_err(db_err("reset checkpoint"))?;
        checkpoint_from_row(&row)
    }
}

fn audit_from_row(row: &SqliteRow) -> StoreResult<AuditRecord> {
    let opt = |col: &'static str| get::<Option<String>>(row, col);
    let mut event = AuditEvent::new(AuditKind::parse(&get::<String>(row, "kind")?));
    event.correlation_id = opt("correlation_id")?
        .map(|s| {
            crate::envelope::CorrelationId::new(s)
                .map_err(|e| StoreError::corrupt("correlation id", e))
        })
        .transpose()?;
    event.idempotency_key = opt("idempotency_key")?
        .map(|s| IdempotencyKey::new(s).map_err(|e| StoreError::corrupt("idempotency key", e)))
        .transpose()?;
    event.message_id = opt("message_id")?
        .map(|s| parse_uuid("message id", &s).map(MessageId::from_uuid))
        .transpose()?;
    event.actor = opt("actor")?;
    event.credential_label = opt("credential_label")?;
    event.step = opt("step")?;
    event.outcome = opt("outcome")?;
    event.details = decode_json_text("details", &get::<String>(row, "details")?)?;
    Ok(AuditRecord {
        seq: to_u64("seq", get(row, "seq")?)?,
        at: from_micros("at", get(row, "at")?)?,
        event,
    })
}

#[async_trait]
impl AuditLog for SqliteStore {
    async fn append(&self, mut event: AuditEvent) -> StoreResult<u64> {
        self.shared.options.redactor.redact(&mut event.details);
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO oc_audit (at, kind, correlation_id, idempotency_key, message_id, actor,
                 credential_label, step, outcome, details)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING seq",
        )
        .bind(to_micros(self.now()))
        .bind(event.kind.as_str())
        .bind(event.correlation_id.as_ref().map(|c| c.as_str()))
        .bind(event.idempotency_key.as_ref().map(|k| k.as_str()))
        .bind(event.message_id.map(|m| m.to_string()))
        .bind(event.actor.as_deref())
        .bind(event.credential_label.as_deref())
        .bind(event.step.as_deref())
        .bind(event.outcome.as_deref())
        .bind(json_text("details", &event.details)?)
        .fetch_one(self.pool())
        .await
        .map_err(db_err("append audit"))?;
        to_u64("seq", seq)
    }

    async fn append_many(&self, events: Vec<AuditEvent>) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let at = to_micros(self.now());
        let mut tx = self.pool().begin().await.map_err(db_err("append audit"))?;
        for mut event in events {
            self.shared.options.redactor.redact(&mut event.details);
            sqlx::query(
                "INSERT INTO oc_audit (at, kind, correlation_id, idempotency_key, message_id, actor,
                     credential_label, step, outcome, details)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .bind(at)
            .bind(event.kind.as_str())
            .bind(event.correlation_id.as_ref().map(|c| c.as_str()))
            .bind(event.idempotency_key.as_ref().map(|k| k.as_str()))
            .bind(event.message_id.map(|m| m.to_string()))
            .bind(event.actor.as_deref())
            .bind(event.credential_label.as_deref())
            .bind(event.step.as_deref())
            .bind(event.outcome.as_deref())
            .bind(json_text("details", &event.details)?)
            .execute(&mut *tx)
            .await
            .map_err(db_err("append audit"))?;
        }
        tx.commit().await.map_err(db_err("append audit"))?;
        Ok(())
    }

    async fn purge_audit(&self, before: DateTime<Utc>, mode: PurgeMode) -> StoreResult<u64> {
        self.purge("oc_audit", "at < ?1", before, mode).await
    }

    async fn query_audit(&self, query: &AuditQuery) -> StoreResult<Vec<AuditRecord>> {
        let rows = sqlx::query(
            "SELECT seq, at, kind, correlation_id, idempotency_key, message_id, actor,
                    credential_label, step, outcome, details
             FROM oc_audit
             WHERE (?1 IS NULL OR correlation_id = ?1)
               AND (?2 IS NULL OR idempotency_key = ?2)
               AND (?3 IS NULL OR message_id = ?3)
               AND (?4 IS NULL OR at >= ?4)
               AND (?5 IS NULL OR at < ?5)
               AND seq > ?6
             ORDER BY seq LIMIT ?7",
        )
        .bind(query.correlation_id.as_ref().map(|c| c.as_str()))
        .bind(query.idempotency_key.as_ref().map(|k| k.as_str()))
        .bind(query.message_id.map(|m| m.to_string()))
        .bind(query.from.map(to_micros))
        .bind(query.until.map(to_micros))
        .bind(to_i64("seq", query.after_seq.unwrap_or(0))?)
        .bind(i64::try_from(query.effective_limit()).unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await
        .map_err(db_err("query audit"))?;
        rows.iter().map(audit_from_row).collect()
    }
}

/// The fact a key (a subject or an alias) names.
const READ_FACT: &str = "SELECT f.seq, f.subject, f.value, f.recorded_at
     FROM oc_facts k JOIN oc_facts f
       ON f.kind = k.kind AND f.subject = COALESCE(k.alias_of, k.subject)
          AND f.alias_of IS NULL
     WHERE k.kind = ?1 AND k.subject = ?2";

fn fact_from_row(kind: &FactKind, row: &SqliteRow) -> StoreResult<StoredFact> {
    Ok(StoredFact {
        kind: kind.clone(),
        subject: FactSubject::new(get::<String>(row, "subject")?)
            .map_err(|e| StoreError::corrupt("fact subject", e))?,
        value: decode_json_text("fact", &get::<String>(row, "value")?)?,
        recorded_at: from_micros("recorded_at", get(row, "recorded_at")?)?,
        position: to_u64("fact position", get(row, "seq")?)?,
    })
}

#[async_trait]
impl Facts for SqliteStore {
    async fn record_fact(
        &self,
        key: &FactKey,
        aliases: &[FactSubject],
        value: &Value,
    ) -> StoreResult<Recorded> {
        let now = self.now();
        let mut conn = self.pool().acquire().await.map_err(db_err("record fact"))?;
        let mut tx = conn
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_err("record fact"))?;
        let row = sqlx::query(
            "INSERT INTO oc_facts (kind, subject, value, recorded_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (kind, subject) DO NOTHING
             RETURNING seq, subject, value, recorded_at",
        )
        .bind(key.kind.as_str())
        .bind(key.subject.as_str())
        .bind(json_text("fact", value)?)
        .bind(to_micros(now))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err("record fact"))?;
        let Some(row) = row else {
            // Read in the same transaction: the store has one connection, held here.
            let known = sqlx::query(READ_FACT)
                .bind(key.kind.as_str())
                .bind(key.subject.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err("record fact"))?;
            tx.rollback().await.map_err(db_err("record fact"))?;
            return match known {
                Some(row) => Ok(Recorded::Existing(fact_from_row(&key.kind, &row)?)),
                None => Err(StoreError::Corrupt {
                    what: format!("fact {key}: an alias of a missing fact"),
                    source: None,
                }),
            };
        };
        let fact = fact_from_row(&key.kind, &row)?;
        for alias in aliases {
            sqlx::query(
                "INSERT INTO oc_facts (kind, subject, alias_of, recorded_at)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (kind, subject) DO NOTHING",
            )
            .bind(key.kind.as_str())
            .bind(alias.as_str())
            .bind(key.subject.as_str())
            .bind(to_micros(now))
            .execute(&mut *tx)
            .await
            .map_err(db_err("record fact"))?;
        }
        tx.commit().await.map_err(db_err("record fact"))?;
        Ok(Recorded::New(fact))
    }

    async fn fact(&self, key: &FactKey) -> StoreResult<Option<StoredFact>> {
        sqlx::query(READ_FACT)
            .bind(key.kind.as_str())
            .bind(key.subject.as_str())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err("read fact"))?
            .map(|row| fact_from_row(&key.kind, &row))
            .transpose()
    }

    async fn list_facts(&self, filter: &FactFilter) -> StoreResult<FactPage> {
        let limit = filter.effective_limit();
        let rows = sqlx::query(
            "SELECT seq, subject, value, recorded_at FROM oc_facts
             WHERE kind = ?1 AND alias_of IS NULL AND seq > ?2
             ORDER BY seq LIMIT ?3",
        )
        .bind(filter.kind.as_str())
        .bind(to_i64("fact position", filter.after.unwrap_or(0))?)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await
        .map_err(db_err("list facts"))?;
        let items = rows
            .iter()
            .map(|row| fact_from_row(&filter.kind, row))
            .collect::<StoreResult<_>>()?;
        Ok(FactPage::new(items, limit))
    }
}
