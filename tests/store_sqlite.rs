//! The conformance suite against the SQLite store, in files and in memory.
#![cfg(all(feature = "testkit", feature = "sqlite"))]

use std::path::PathBuf;

use odoo_connect::store::conformance::{StoreFactory, run_all};
use odoo_connect::store::sqlite::SqliteStore;
use odoo_connect::sync::envelope::{Envelope, IdempotencyKey, JsonEnvelope, MessageId};
use odoo_connect::sync::pipeline::Pipeline;
use odoo_connect::sync::step::from_fn;
use odoo_connect::sync::store::{
    DeadLetterFilter, DeadLetters, FailureClass, StoreError, StoreOptions, StoreResult, WorkQueue,
};

/// A folder under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("oc-store-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct SqliteFiles(TempDir);

#[async_trait::async_trait]
impl StoreFactory for SqliteFiles {
    type Store = SqliteStore;

    async fn fresh(&self, options: StoreOptions) -> StoreResult<SqliteStore> {
        let path = self.0.0.join(format!("{}.db", uuid::Uuid::new_v4()));
        SqliteStore::open_with(path, options).await
    }

    async fn reopen(
        &self,
        store: &SqliteStore,
        options: StoreOptions,
    ) -> StoreResult<Option<SqliteStore>> {
        let path = store.path().ok_or(StoreError::InvalidArgument {
            reason: "in-memory store".into(),
        })?;
        SqliteStore::open_with(path, options).await.map(Some)
    }

    async fn corrupt_message(
        &self,
        store: &SqliteStore,
        id: MessageId,
        raw: &[u8],
    ) -> StoreResult<bool> {
        let Some(path) = store.path() else {
            return Ok(false);
        };
        corrupt(path, id, raw).await;
        Ok(true)
    }
}

/// Overwrites a queue row's envelope with `raw` through a connection of its own, as a faulty
/// writer would.
async fn corrupt(path: &std::path::Path, id: MessageId, raw: &[u8]) {
    use sqlx::Connection;
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("connect");
    let done = sqlx::query("UPDATE oc_queue SET envelope = ?1 WHERE id = ?2")
        .bind(raw)
        .bind(id.to_string())
        .execute(&mut c)
        .await
        .expect("corrupt");
    assert_eq!(done.rows_affected(), 1);
    c.close().await.expect("close");
}

struct SqliteMemory;

#[async_trait::async_trait]
impl StoreFactory for SqliteMemory {
    type Store = SqliteStore;

    async fn fresh(&self, options: StoreOptions) -> StoreResult<SqliteStore> {
        SqliteStore::open_in_memory_with(options).await
    }
}

#[cfg(feature = "encryption")]
#[path = "support/encrypted.rs"]
mod encrypted;

#[cfg(feature = "encryption")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encrypted_sqlite_store_passes_the_suite_and_holds_no_payload_in_clear() {
    let report = run_all(&encrypted::Encrypted(SqliteFiles(TempDir::new()))).await;
    println!("{report}");
    report.assert_passed();
    let dir = TempDir::new();
    let path = dir.0.join("sealed.db");
    let store = odoo_connect::store::encrypted::EncryptedStore::new(
        SqliteStore::open(&path).await.expect("open"),
        std::sync::Arc::new(encrypted::keyring()),
        Default::default(),
    );
    encrypted::write_marker(&store).await;
    store.inner().close().await;
    // Every byte of the database and its journal, searched for the marker.
    let mut searched = 0;
    for entry in std::fs::read_dir(&dir.0).expect("the folder") {
        let bytes = std::fs::read(entry.expect("a file").path()).unwrap_or_default();
        searched += bytes.len();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(encrypted::MARKER),
            "the marker is in clear in the SQLite files"
        );
    }
    assert!(searched > 0);
    // The same writes without the wrapper leave it in clear: the search can find it.
    let clear_dir = TempDir::new();
    let clear = SqliteStore::open(clear_dir.0.join("clear.db"))
        .await
        .expect("open");
    encrypted::write_marker(&clear).await;
    clear.close().await;
    let found = std::fs::read_dir(&clear_dir.0)
        .expect("the folder")
        .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
        .any(|bytes| String::from_utf8_lossy(&bytes).contains(encrypted::MARKER));
    assert!(
        found,
        "the search must find the marker in a store without the wrapper"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_store_passes_the_conformance_suite() {
    let report = run_all(&SqliteFiles(TempDir::new())).await;
    println!("{report}");
    report.assert_passed();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_memory_store_passes_the_conformance_suite() {
    let report = run_all(&SqliteMemory).await;
    println!("{report}");
    report.assert_passed();
}

#[tokio::test]
async fn schema_version_is_recorded_and_reopen_does_not_migrate_twice() {
    let dir = TempDir::new();
    let path = dir.0.join("state.db");
    let a = SqliteStore::open(&path).await.expect("open");
    assert_eq!(a.schema_version().await.expect("version"), 3);
    a.close().await;
    let b = SqliteStore::open(&path).await.expect("reopen");
    assert_eq!(b.schema_version().await.expect("version"), 3);
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let dir = TempDir::new();
    let path = dir.0.join("state.db");
    let a = SqliteStore::open(&path).await.expect("open");
    a.close().await;
    {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("connect");
        sqlx::query("INSERT INTO oc_schema_version (version, applied_at) VALUES (99, 0)")
            .execute(&mut c)
            .await
            .expect("insert");
    }
    match SqliteStore::open(&path).await {
        Err(StoreError::UnsupportedSchema {
            found: 99,
            supported: 3,
        }) => {}
        other => panic!("expected UnsupportedSchema, got {other:?}"),
    }
}

fn numbered(i: usize) -> JsonEnvelope {
    let key = IdempotencyKey::for_effect("contract", &i.to_string(), "v1", "apply").expect("key");
    Envelope::builder(key, serde_json::json!({"i": i}))
        .source("crm")
        .legal_entity("BE".parse().unwrap())
        .build()
        .expect("envelope")
        .to_json()
        .expect("json")
}

#[tokio::test]
async fn a_poison_row_is_quarantined_while_the_rest_drains() {
    let dir = TempDir::new();
    let path = dir.0.join("state.db");
    let store = std::sync::Arc::new(SqliteStore::open(&path).await.expect("open"));
    let batch: Vec<JsonEnvelope> = (0..20).map(numbered).collect();
    store.enqueue_batch(&batch).await.expect("enqueue");
    // Not JSON, not even UTF-8: what a disk fault or a foreign writer leaves behind.
    let raw: &[u8] = b"\xff\xfe{\"id\": trunc";
    corrupt(&path, batch[7].id, raw).await;
    // Before, the first lease failed on the row and stopped every worker.
    let pipeline = Pipeline::builder("poison", store.clone())
        .step(from_fn("apply", |_cx| Box::pin(async { Ok(()) })))
        .batch_size(5)
        .build();
    let report = pipeline.run_until_idle("w1").await.expect("run");
    assert_eq!(report.done, 19, "{report:?}");
    assert_eq!(store.stats().await.expect("stats").depth, 0);
    let letters = store
        .list_dead_letters(&DeadLetterFilter::all())
        .await
        .expect("dead letters");
    assert_eq!(letters.len(), 1);
    assert_eq!(
        letters[0].raw.as_deref(),
        Some(raw),
        "the raw bytes are kept"
    );
    assert_eq!(letters[0].envelope.id, batch[7].id);
    assert_eq!(letters[0].failure.class, FailureClass::Technical);
    assert!(letters[0].failure.reason.starts_with("undecodable: "));
    // The quarantined row reads as a dead-lettered stand-in, not as an error.
    let row = store.get(batch[7].id).await.expect("get").expect("row");
    assert_eq!(row.envelope.source, "undecodable");
}

#[tokio::test]
async fn a_stored_legal_entity_that_is_not_a_key_is_quarantined() {
    let dir = TempDir::new();
    let path = dir.0.join("state.db");
    let store = SqliteStore::open(&path).await.expect("open");
    let msg = numbered(1);
    store.enqueue(&msg).await.expect("enqueue");
    // The envelope as an earlier writer could have stored it: a legal entity with a space.
    let mut json = serde_json::to_value(&msg).expect("json");
    json["legal_entity"] = serde_json::json!("firm eu");
    let raw = serde_json::to_vec(&json).expect("bytes");
    corrupt(&path, msg.id, &raw).await;
    let leased = store
        .lease("w1", 10, std::time::Duration::from_secs(30))
        .await
        .expect("a lease, not an error");
    assert!(leased.is_empty());
    let letters = store
        .list_dead_letters(&DeadLetterFilter::all())
        .await
        .expect("dead letters");
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].envelope.id, msg.id);
    assert_eq!(letters[0].raw.as_deref(), Some(raw.as_slice()));
    let reason = &letters[0].failure.reason;
    assert!(reason.starts_with("undecodable: "), "{reason}");
    assert!(reason.contains("not allowed in a key"), "{reason}");
}

#[tokio::test]
async fn a_version_1_file_is_migrated_with_its_data() {
    let dir = TempDir::new();
    let path = dir.0.join("state.db");
    let store = SqliteStore::open(&path).await.expect("open");
    let msg = numbered(1);
    store.enqueue(&msg).await.expect("enqueue");
    store.close().await;
    {
        // Back to what version 1 had.
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("connect");
        for sql in [
            "DROP TABLE oc_facts",
            "DELETE FROM oc_schema_version WHERE version = 3",
            "DROP INDEX oc_queue_finished",
            "DROP TRIGGER oc_audit_no_delete",
            "DROP TABLE oc_purge",
            "ALTER TABLE oc_dead_letters DROP COLUMN raw",
            "CREATE TRIGGER oc_audit_no_delete BEFORE DELETE ON oc_audit
             BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
            "DELETE FROM oc_schema_version WHERE version = 2",
        ] {
            sqlx::query(sql).execute(&mut c).await.expect(sql);
        }
    }
    let store = SqliteStore::open(&path).await.expect("reopen");
    assert_eq!(store.schema_version().await.expect("version"), 3);
    assert!(store.get(msg.id).await.expect("get").is_some());
}

#[tokio::test]
async fn a_version_2_file_gains_facts_and_keeps_its_data() {
    use odoo_connect::sync::envelope::IdempotencyKey;
    use odoo_connect::sync::store::{
        Begin, FactKey, FactKind, FactSubject, Facts, IdempotencyLedger,
    };
    use serde_json::json;
    let dir = TempDir::new();
    let path = dir.0.join("state.db");
    let store = SqliteStore::open(&path).await.expect("open");
    let msg = numbered(1);
    store.enqueue(&msg).await.expect("enqueue");
    let effect = IdempotencyKey::for_effect("contract", "1", "won", "sale-order").expect("key");
    let Begin::New(claim) = store
        .begin(&effect, &json!({}), std::time::Duration::from_secs(60))
        .await
        .expect("begin")
    else {
        panic!("a new claim");
    };
    store
        .complete(&claim, &json!({"id": 7}))
        .await
        .expect("complete");
    store.close().await;
    {
        // Back to what version 2 had.
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("connect");
        for sql in [
            "DROP TABLE oc_facts",
            "DELETE FROM oc_schema_version WHERE version = 3",
        ] {
            sqlx::query(sql).execute(&mut c).await.expect(sql);
        }
    }
    let store = SqliteStore::open(&path).await.expect("reopen");
    assert_eq!(store.schema_version().await.expect("version"), 3);
    assert!(store.get(msg.id).await.expect("get").is_some());
    assert!(store.entry(&effect).await.expect("entry").is_some());
    let key = FactKey::new(
        FactKind::named("booking"),
        FactSubject::for_record("contract", "1").expect("subject"),
    );
    let recorded = store
        .record_fact(&key, &[], &json!({"order": 7}))
        .await
        .expect("record");
    assert!(recorded.is_new());
    assert_eq!(
        store.fact(&key).await.expect("read").map(|f| f.value),
        Some(json!({"order": 7}))
    );
}
