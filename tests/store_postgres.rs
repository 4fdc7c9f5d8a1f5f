//! The conformance suite and the multi-worker test against PostgreSQL.
//!
//! Reads `DATABASE_URL` (for example `postgres://postgres@127.0.0.1:5432/test`); without it, at
//! build time, each test is ignored with the reason `skipped: DATABASE_URL not set`, so the test
//! summary shows it (see `build.rs`). Every test works in a schema of its own, with a random name,
//! and drops it at the end.
#![cfg(all(feature = "testkit", feature = "postgres"))]

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use odoo_connect::store::conformance::{StoreFactory, message, run_all};
use odoo_connect::store::postgres::PostgresStore;
use odoo_connect::sync::envelope::MessageId;
use odoo_connect::sync::store::{StoreError, StoreOptions, StoreResult, WorkQueue};

fn database_url() -> Option<String> {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            println!("skipped: DATABASE_URL not set");
            None
        }
    }
}

fn random_schema() -> String {
    format!(
        "oc_test_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..16]
    )
}

async fn drop_schemas(url: &str, schemas: &[String]) {
    if let Ok(pool) = sqlx::PgPool::connect(url).await {
        for s in schemas {
            let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{s}\" CASCADE"))
                .execute(&pool)
                .await;
        }
        pool.close().await;
    }
}

struct Pg {
    url: String,
    schemas: Mutex<Vec<String>>,
}

impl Pg {
    fn new(url: String) -> Self {
        Self {
            url,
            schemas: Mutex::new(Vec::new()),
        }
    }

    async fn open(&self, schema: &str, options: StoreOptions) -> StoreResult<PostgresStore> {
        PostgresStore::builder(&self.url)
            .schema(schema)
            .max_connections(4)
            .options(options)
            .connect()
            .await
    }

    async fn cleanup(&self) {
        let schemas = std::mem::take(&mut *self.schemas.lock().expect("lock"));
        drop_schemas(&self.url, &schemas).await;
    }
}

#[async_trait::async_trait]
impl StoreFactory for Pg {
    type Store = PostgresStore;

    async fn fresh(&self, options: StoreOptions) -> StoreResult<PostgresStore> {
        let schema = random_schema();
        self.schemas.lock().expect("lock").push(schema.clone());
        self.open(&schema, options).await
    }

    async fn reopen(
        &self,
        store: &PostgresStore,
        options: StoreOptions,
    ) -> StoreResult<Option<PostgresStore>> {
        self.open(store.schema(), options).await.map(Some)
    }

    async fn corrupt_message(
        &self,
        store: &PostgresStore,
        id: MessageId,
        raw: &[u8],
    ) -> StoreResult<bool> {
        corrupt(store, id, raw).await;
        Ok(true)
    }
}

/// Overwrites a queue row's envelope with `raw` (JSON that is not an envelope) with raw SQL.
async fn corrupt(store: &PostgresStore, id: MessageId, raw: &[u8]) {
    let text = std::str::from_utf8(raw).expect("utf-8");
    let sql = format!(
        "UPDATE \"{}\".oc_queue SET envelope = $1::jsonb WHERE id = $2",
        store.schema()
    );
    let done = sqlx::query(&sql)
        .bind(text)
        .bind(id.as_uuid())
        .execute(store.pool())
        .await
        .expect("corrupt");
    assert_eq!(done.rows_affected(), 1);
}

#[cfg(feature = "encryption")]
#[path = "support/encrypted.rs"]
mod encrypted;

#[cfg(feature = "encryption")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    no_database,
    ignore = "skipped: DATABASE_URL not set (needs PostgreSQL)"
)]
async fn an_encrypted_postgres_store_passes_the_suite_and_holds_no_payload_in_clear() {
    let Some(url) = database_url() else { return };
    let factory = encrypted::Encrypted(Pg::new(url));
    let report = run_all(&factory).await;
    println!("{report}");
    let sealed = factory
        .fresh(StoreOptions::default())
        .await
        .expect("a sealed store");
    encrypted::write_marker(&sealed).await;
    let clear = factory
        .0
        .fresh(StoreOptions::default())
        .await
        .expect("a store");
    encrypted::write_marker(&clear).await;
    // Every row of every table of each schema, as text.
    let dump = |store: PostgresStore| async move {
        let tables: Vec<(String,)> = sqlx::query_as(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1",
        )
        .bind(store.schema())
        .fetch_all(store.pool())
        .await
        .expect("the tables");
        let mut text = String::new();
        for (table,) in &tables {
            let sql = format!(
                "SELECT coalesce(string_agg(t::text, '|'), '') FROM \"{}\".\"{table}\" t",
                store.schema()
            );
            let (rows,): (String,) = sqlx::query_as(&sql)
                .fetch_one(store.pool())
                .await
                .expect("the rows");
            text.push_str(&rows);
        }
        (tables.len(), text)
    };
    let (tables, sealed_text) = dump(sealed.inner().clone()).await;
    let (_, clear_text) = dump(clear).await;
    factory.0.cleanup().await;
    report.assert_passed();
    assert!(tables >= 6, "{tables} tables");
    assert!(
        !sealed_text.contains(encrypted::MARKER),
        "the marker is in clear in PostgreSQL"
    );
    assert!(sealed_text.contains("$sealed"));
    // Without the wrapper the same search finds it.
    assert!(clear_text.contains(encrypted::MARKER));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    no_database,
    ignore = "skipped: DATABASE_URL not set (needs PostgreSQL)"
)]
async fn postgres_store_passes_the_conformance_suite() {
    let Some(url) = database_url() else { return };
    let factory = Pg::new(url);
    let report = run_all(&factory).await;
    factory.cleanup().await;
    println!("{report}");
    report.assert_passed();
}

#[tokio::test]
#[cfg_attr(
    no_database,
    ignore = "skipped: DATABASE_URL not set (needs PostgreSQL)"
)]
async fn bad_schema_names_are_refused() {
    let Some(url) = database_url() else { return };
    for bad in ["", "Upper", "1abc", "a-b", "x\"; DROP TABLE y; --"] {
        match PostgresStore::builder(&url).schema(bad).connect().await {
            Err(StoreError::InvalidArgument { .. }) => {}
            other => panic!("schema {bad:?} should be refused, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    no_database,
    ignore = "skipped: DATABASE_URL not set (needs PostgreSQL)"
)]
async fn workers_starting_together_migrate_once() {
    let Some(url) = database_url() else { return };
    let schema = random_schema();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (url, schema) = (url.clone(), schema.clone());
        tasks.push(tokio::spawn(async move {
            PostgresStore::builder(url)
                .schema(schema)
                .max_connections(1)
                .connect()
                .await
        }));
    }
    let mut versions = Vec::new();
    for t in tasks {
        let store = t.await.expect("task").expect("connect");
        versions.push(store.schema_version().await.expect("version"));
        store.close().await;
    }
    drop_schemas(&url, std::slice::from_ref(&schema)).await;
    assert_eq!(versions, vec![3, 3, 3, 3]);
}

#[tokio::test]
#[cfg_attr(
    no_database,
    ignore = "skipped: DATABASE_URL not set (needs PostgreSQL)"
)]
async fn a_version_2_schema_gains_facts_and_keeps_its_data() {
    use odoo_connect::sync::store::{FactKey, FactKind, FactSubject, Facts};
    use serde_json::json;
    let Some(url) = database_url() else { return };
    let schema = random_schema();
    let open = || PostgresStore::builder(&url).schema(&schema).connect();
    let store = open().await.expect("connect");
    let msg = message("contract", "1", 1).expect("message");
    store.enqueue(&msg).await.expect("enqueue");
    // Back to what version 2 had.
    sqlx::raw_sql(&format!(
        "DROP TABLE \"{schema}\".oc_facts;
         DELETE FROM \"{schema}\".oc_schema_version WHERE version = 3;"
    ))
    .execute(store.pool())
    .await
    .expect("back to version 2");
    store.close().await;

    let store = open().await.expect("reconnect");
    let version = store.schema_version().await.expect("version");
    let kept = store.get(msg.id).await.expect("get").is_some();
    let key = FactKey::new(
        FactKind::named("booking"),
        FactSubject::for_record("contract", "1").expect("subject"),
    );
    let recorded = store.record_fact(&key, &[], &json!({"order": 7})).await;
    store.close().await;
    drop_schemas(&url, std::slice::from_ref(&schema)).await;
    assert_eq!(version, 3);
    assert!(kept, "the queue kept its message");
    assert!(recorded.expect("record").is_new());
}

/// What the workers saw, shared between them.
#[derive(Default)]
struct Seen {
    in_flight: HashSet<String>,
    order: HashMap<String, Vec<u64>>,
    acked: HashMap<MessageId, usize>,
    violations: Vec<String>,
}

async fn drain_with_workers(url: &str, workers: usize, lanes: usize, per_lane: usize) {
    let schema = random_schema();
    let setup = PostgresStore::builder(url)
        .schema(&schema)
        .max_connections(1)
        .connect()
        .await
        .expect("connect");
    let mut all = Vec::new();
    for n in 0..per_lane {
        for l in 0..lanes {
            all.push(message("contract", &format!("c{l}"), n as u32).expect("message"));
        }
    }
    for chunk in all.chunks(500) {
        setup.enqueue_batch(chunk).await.expect("enqueue");
    }
    let total = all.len();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..workers {
        let seen = seen.clone();
        let (url, schema) = (url.to_owned(), schema.clone());
        tasks.push(tokio::spawn(async move {
            // Each worker has its own pool, as a worker on another machine would.
            let store = PostgresStore::builder(url)
                .schema(schema)
                .max_connections(1)
                .connect()
                .await
                .expect("connect worker");
            let name = format!("worker-{w}");
            loop {
                let leased = store
                    .lease(&name, 25, Duration::from_secs(60))
                    .await
                    .expect("lease");
                if leased.is_empty() {
                    if store.stats().await.expect("stats").depth == 0 {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    continue;
                }
                {
                    let mut s = seen.lock().expect("lock");
                    for m in &leased {
                        let lane = m.envelope.lane.as_str().to_owned();
                        if !s.in_flight.insert(lane.clone()) {
                            s.violations
                                .push(format!("lane {lane} leased twice at once"));
                        }
                        let n = m.envelope.payload["n"].as_u64().unwrap_or(u64::MAX);
                        s.order.entry(lane).or_default().push(n);
                    }
                }
                // The effect would run here.
                tokio::task::yield_now().await;
                {
                    let mut s = seen.lock().expect("lock");
                    for m in &leased {
                        s.in_flight.remove(m.envelope.lane.as_str());
                    }
                }
                let leases: Vec<_> = leased.iter().map(|m| m.lease.clone()).collect();
                let acked = store.ack(&leases).await.expect("ack");
                let mut s = seen.lock().expect("lock");
                if acked.len() != leases.len() {
                    s.violations
                        .push(format!("{name} acked {} of {}", acked.len(), leases.len()));
                }
                for id in acked {
                    *s.acked.entry(id).or_default() += 1;
                }
            }
            store.close().await;
        }));
    }
    for t in tasks {
        t.await.expect("worker");
    }
    let elapsed = started.elapsed();
    let done: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM \"{schema}\".oc_queue WHERE status = 1"
    ))
    .fetch_one(setup.pool())
    .await
    .expect("count");
    let seen = std::mem::take(&mut *seen.lock().expect("lock"));
    setup.drop_schema().await.expect("drop schema");
    setup.close().await;

    println!(
        "{workers} workers drained {total} messages in {elapsed:?} ({:.0} msg/s)",
        total as f64 / elapsed.as_secs_f64()
    );
    assert!(
        seen.violations.is_empty(),
        "violations: {:?}",
        seen.violations
    );
    assert_eq!(seen.acked.len(), total, "every message acked");
    assert!(seen.acked.values().all(|n| *n == 1), "acked exactly once");
    assert_eq!(done, total as i64, "every row done in the database");
    for (lane, order) in &seen.order {
        let want: Vec<u64> = (0..per_lane as u64).collect();
        assert_eq!(order, &want, "lane {lane} kept its order");
    }
    assert_eq!(seen.order.len(), lanes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    no_database,
    ignore = "skipped: DATABASE_URL not set (needs PostgreSQL)"
)]
async fn two_workers_drain_2000_messages_exactly_once_in_lane_order() {
    let Some(url) = database_url() else { return };
    drain_with_workers(&url, 2, 200, 10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    no_database,
    ignore = "skipped: DATABASE_URL not set (needs PostgreSQL)"
)]
async fn four_workers_drain_2000_messages_exactly_once_in_lane_order() {
    let Some(url) = database_url() else { return };
    drain_with_workers(&url, 4, 200, 10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    no_database,
    ignore = "skipped: DATABASE_URL not set (needs PostgreSQL)"
)]
async fn a_poison_row_is_quarantined_while_two_workers_drain_the_rest() {
    use odoo_connect::sync::pipeline::Pipeline;
    use odoo_connect::sync::step::from_fn;
    use odoo_connect::sync::store::{DeadLetterFilter, DeadLetters};
    let Some(url) = database_url() else { return };
    let schema = random_schema();
    let store = Arc::new(
        PostgresStore::builder(&url)
            .schema(&schema)
            .max_connections(4)
            .connect()
            .await
            .expect("connect"),
    );
    let batch: Vec<_> = (0..40)
        .map(|i| message("contract", &i.to_string(), 1).expect("message"))
        .collect();
    store.enqueue_batch(&batch).await.expect("enqueue");
    corrupt(
        &store,
        batch[3].id,
        br#"{"id": "not a uuid", "payload": 1}"#,
    )
    .await;
    let pipeline = Pipeline::builder("poison", store.clone())
        .step(from_fn("apply", |_cx| Box::pin(async { Ok(()) })))
        .batch_size(8)
        .build();
    let (a, b) = tokio::join!(pipeline.run_until_idle("w1"), pipeline.run_until_idle("w2"));
    let done = a.expect("w1").done + b.expect("w2").done;
    let letters = store
        .list_dead_letters(&DeadLetterFilter::all())
        .await
        .expect("dead letters");
    let depth = store.stats().await.expect("stats").depth;
    drop_schemas(&url, std::slice::from_ref(&schema)).await;
    assert_eq!(done, 39);
    assert_eq!(depth, 0);
    assert_eq!(letters.len(), 1);
    let raw: serde_json::Value =
        serde_json::from_slice(letters[0].raw.as_deref().expect("raw")).expect("json");
    assert_eq!(raw, serde_json::json!({"id": "not a uuid", "payload": 1}));
    assert!(letters[0].failure.reason.starts_with("undecodable: "));
}
