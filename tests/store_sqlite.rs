//! The conformance suite against the SQLite store, in files and in memory.
#![cfg(all(feature = "testkit", feature = "sqlite"))]

use std::path::PathBuf;

use odoo_connect::store::conformance::{StoreFactory, run_all};
use odoo_connect::store::sqlite::SqliteStore;
use odoo_connect::sync::store::{StoreError, StoreOptions, StoreResult};

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
}

struct SqliteMemory;

#[async_trait::async_trait]
impl StoreFactory for SqliteMemory {
    type Store = SqliteStore;

    async fn fresh(&self, options: StoreOptions) -> StoreResult<SqliteStore> {
        SqliteStore::open_in_memory_with(options).await
    }
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
    assert_eq!(a.schema_version().await.expect("version"), 1);
    a.close().await;
    let b = SqliteStore::open(&path).await.expect("reopen");
    assert_eq!(b.schema_version().await.expect("version"), 1);
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
            supported: 1,
        }) => {}
        other => panic!("expected UnsupportedSchema, got {other:?}"),
    }
}
