//! The SQLite store reading rows it did not write: the fuzzed bytes are put in a queue, dead
//! letter, ledger, checkpoint or audit row with raw SQL, then read through the store's public
//! API. Every read gives a value or a typed error, never a panic.
//!
//! Input: a table byte, six little-endian `i64`s for the integer columns, then the text columns
//! separated by NUL bytes.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use odoo_connect_sync::envelope::{IdempotencyKey, MessageId};
use odoo_connect_sync::store::sqlite::SqliteStore;
use odoo_connect_sync::store::{
    AuditLog, AuditQuery, CheckpointKey, Checkpoints, DeadLetterFilter, DeadLetterId, DeadLetters,
    IdempotencyLedger, WorkQueue,
};
use sqlx::sqlite::SqlitePool;

const ID: &str = "0192f0c4-7e7b-7cc3-9d6e-2f4c1d3b5a01";
const KEY: &str = "fuzz:row:v1:check";

struct Fixture {
    runtime: tokio::runtime::Runtime,
    store: SqliteStore,
    raw: SqlitePool,
}

fn fixture() -> Option<&'static Fixture> {
    static FIXTURE: OnceLock<Option<Fixture>> = OnceLock::new();
    FIXTURE
        .get_or_init(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            // In memory when the system has a RAM file system: the store syncs every commit.
            let shm = std::path::Path::new("/dev/shm");
            let dir = if shm.is_dir() {
                shm.to_path_buf()
            } else {
                std::env::temp_dir()
            };
            let path = dir.join(format!("odoo-connect-fuzz-{}.sqlite", std::process::id()));
            let _ = std::fs::remove_file(&path);
            let (store, raw) = runtime.block_on(async {
                let store = SqliteStore::open(&path).await.ok()?;
                let raw = SqlitePool::connect(&format!("sqlite://{}", path.display()))
                    .await
                    .ok()?;
                // The audit log is append-only; this throwaway database is emptied after each
                // input.
                for t in ["oc_audit_no_update", "oc_audit_no_delete"] {
                    sqlx::query(&format!("DROP TRIGGER IF EXISTS {t}"))
                        .execute(&raw)
                        .await
                        .ok()?;
                }
                Some((store, raw))
            })?;
            Some(Fixture {
                runtime,
                store,
                raw,
            })
        })
        .as_ref()
}

/// Text column `i`, or `None` (SQL NULL) when the input has fewer.
fn text<'a>(texts: &[&'a str], i: usize) -> Option<&'a str> {
    texts.get(i).copied()
}

async fn one(f: &Fixture, table: u8, ints: [i64; 6], texts: &[&str]) {
    let t = |i| text(texts, i).unwrap_or("");
    let id = if table & 0x80 != 0 { t(0) } else { ID };
    let inserted = match table % 5 {
        0 => {
            sqlx::query(
                "INSERT INTO oc_queue (id, lane, envelope, status, enqueued_at, not_before, \
                 lease_token, lease_owner, lease_expires, attempts, deliveries, last_error) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )
            .bind(id)
            .bind(t(1))
            .bind(t(2))
            .bind(ints[0] % 4)
            .bind(ints[1])
            .bind(if table & 0x40 != 0 { ints[2] } else { 0 })
            .bind(text(texts, 3))
            .bind(text(texts, 4))
            .bind(if table & 0x20 != 0 {
                Some(ints[3])
            } else {
                None
            })
            .bind(ints[4])
            .bind(ints[5])
            .bind(text(texts, 5))
            .execute(&f.raw)
            .await
        }
        1 => {
            sqlx::query(
                "INSERT INTO oc_dead_letters (id, message_id, source, lane, idempotency_key, \
                 envelope, class, reason, errors, context, attempts, parked_at, replayed_by, \
                 replayed_at, replay_message_id) \
                 VALUES (?1, ?2, 'src', 'lane', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )
            .bind(id)
            .bind(ID)
            .bind(KEY)
            .bind(t(1))
            .bind(ints[0] % 3)
            .bind(t(2))
            .bind(t(3))
            .bind(t(4))
            .bind(ints[1])
            .bind(ints[2])
            .bind(text(texts, 5))
            .bind(if table & 0x20 != 0 {
                Some(ints[3])
            } else {
                None
            })
            .bind(text(texts, 6))
            .execute(&f.raw)
            .await
        }
        2 => {
            sqlx::query(
                "INSERT INTO oc_ledger (key, state, intent, outcome, attempts, claim_token, \
                 claimed_until, last_error, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .bind(KEY)
            .bind(ints[0] % 5)
            .bind(t(0))
            .bind(text(texts, 1))
            .bind(ints[1])
            .bind(t(2))
            .bind(ints[2])
            .bind(text(texts, 3))
            .bind(ints[3])
            .bind(ints[4])
            .execute(&f.raw)
            .await
        }
        3 => {
            sqlx::query(
                "INSERT INTO oc_checkpoints (connector, stream, legal_entity, cursor, version, \
                 updated_at) VALUES ('c', 's', 'e', ?1, ?2, ?3)",
            )
            .bind(text(texts, 0))
            .bind(ints[0])
            .bind(ints[1])
            .execute(&f.raw)
            .await
        }
        _ => {
            sqlx::query(
                "INSERT INTO oc_audit (at, kind, correlation_id, idempotency_key, message_id, \
                 actor, credential_label, step, outcome, details) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .bind(ints[0])
            .bind(t(0))
            .bind(text(texts, 1))
            .bind(text(texts, 2))
            .bind(text(texts, 3))
            .bind(text(texts, 4))
            .bind(text(texts, 5))
            .bind(text(texts, 6))
            .bind(text(texts, 7))
            .bind(t(8))
            .execute(&f.raw)
            .await
        }
    };
    if inserted.is_err() {
        return;
    }
    let store = &f.store;
    let (Ok(message), Ok(dead), Ok(key)) = (
        ID.parse::<MessageId>(),
        uuid::Uuid::parse_str(ID).map(DeadLetterId::from_uuid),
        IdempotencyKey::new(KEY),
    ) else {
        return;
    };
    // Results are ignored: a row the store cannot read is a typed error.
    match table % 5 {
        0 => {
            let _ = store.get(message).await;
            let _ = store.stats().await;
            if let Ok(leased) = store.lease("fuzz", 4, Duration::from_secs(30)).await {
                let leases: Vec<_> = leased.into_iter().map(|m| m.lease).collect();
                let _ = store.ack(&leases).await;
            }
        }
        1 => {
            let _ = store.dead_letter_by_id(dead).await;
            let _ = store.list_dead_letters(&DeadLetterFilter::default()).await;
            let _ = store.count_by_reason().await;
        }
        2 => {
            let _ = store.entry(&key).await;
            let _ = store
                .begin(
                    &key,
                    &serde_json::json!({"fuzz": true}),
                    Duration::from_secs(5),
                )
                .await;
        }
        3 => {
            if let Ok(entity) = "e".parse() {
                let _ = store.checkpoint(&CheckpointKey::new("c", "s", entity)).await;
            }
        }
        _ => {
            let _ = store.query_audit(&AuditQuery::default()).await;
        }
    }
    let _ = sqlx::raw_sql(
        "DELETE FROM oc_queue; DELETE FROM oc_dead_letters; DELETE FROM oc_ledger; \
         DELETE FROM oc_checkpoints; DELETE FROM oc_audit;",
    )
    .execute(&f.raw)
    .await;
}

fuzz_target!(|data: &[u8]| {
    let Some(f) = fixture() else {
        panic!("the SQLite store could not be set up");
    };
    let Some((&table, rest)) = data.split_first() else {
        return;
    };
    let mut ints = [0i64; 6];
    let mut rest = rest;
    for slot in &mut ints {
        let mut b = [0u8; 8];
        let n = rest.len().min(8);
        b[..n].copy_from_slice(&rest[..n]);
        rest = &rest[n..];
        *slot = i64::from_le_bytes(b);
    }
    let texts: Vec<&str> = rest
        .split(|&b| b == 0)
        .map(|t| std::str::from_utf8(t).unwrap_or("\u{fffd}"))
        .collect();
    f.runtime.block_on(one(f, table, ints, &texts));
});
