//! Exactly-once effects in Odoo, checked by counting records in the fake Odoo:
//! a reply lost after the commit, a worker killed with SIGKILL in the middle of a batch (SQLite and
//! PostgreSQL), and two and four workers draining one PostgreSQL queue.
#![cfg(all(feature = "testkit", feature = "sqlite"))]

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use odoo_connect::odoo::{OdooClient, RetryPolicy};
use odoo_connect::store::sqlite::SqliteStore;
use odoo_connect::sync::effect::{ImportRow, create_once};
use odoo_connect::sync::envelope::{Envelope, IdempotencyKey, JsonEnvelope};
use odoo_connect::sync::pipeline::{Pipeline, SyncRetryPolicy};
use odoo_connect::sync::step::from_fn;
use odoo_connect::sync::store::{DeadLetterFilter, DeadLetters, StateStore, WorkQueue};
use odoo_connect::testkit::FakeOdoo;
use serde_json::json;

/// The pipeline every test runs: each message creates one customer in Odoo, exactly once.
fn pipeline<S: StateStore + ?Sized + 'static>(
    store: Arc<S>,
    odoo: OdooClient,
    lease: Duration,
) -> Pipeline<S> {
    Pipeline::builder("exactly-once", store)
        .step(from_fn("create-client", move |cx| {
            let odoo = odoo.clone();
            Box::pin(async move {
                let name = cx.envelope.payload["name"]
                    .as_str()
                    .unwrap_or("?")
                    .to_owned();
                let key = cx.envelope.idempotency_key.clone();
                let row = ImportRow::new()
                    .text("name", name)
                    .text("ref", key.as_str())
                    .boolean("is_company", true);
                match create_once(cx, &odoo, "res.partner", &key, &row).await {
                    Ok(_) => Ok(()),
                    Err(o) => Err(o),
                }
            })
        }))
        .retry(
            SyncRetryPolicy::default()
                .initial_delay(Duration::from_millis(50))
                .max_delay(Duration::from_millis(200))
                .max_attempts(20),
        )
        .lease_for(lease)
        .batch_size(16)
        .concurrency(4)
        .idle_wait(Duration::from_millis(50))
        .build()
}

fn client(fake: &FakeOdoo) -> OdooClient {
    OdooClient::builder(fake.url())
        .database(fake.database())
        .api_key("admin", fake.admin_api_key())
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

fn messages(prefix: &str, n: usize) -> Vec<JsonEnvelope> {
    (0..n)
        .map(|i| {
            let key =
                IdempotencyKey::for_effect("deal", &format!("{prefix}{i}"), "won", "create-client")
                    .unwrap();
            Envelope::builder(key, json!({"name": format!("Client {prefix}{i}")}))
                .source("crm")
                .legal_entity("BE")
                .build()
                .unwrap()
                .to_json()
                .unwrap()
        })
        .collect()
}

fn count_created(fake: &FakeOdoo, prefix: &str) -> usize {
    fake.count_where(
        "res.partner",
        json!([["name", "=like", format!("Client {prefix}%")]]),
    )
}

#[tokio::test]
async fn a_reply_lost_after_the_commit_still_gives_one_record() {
    let fake = FakeOdoo::start().await;
    let store = Arc::new(SqliteStore::open_in_memory().await.unwrap());
    let p = pipeline(store.clone(), client(&fake), Duration::from_secs(5));
    p.submit_batch(&messages("lost-", 3)).await.unwrap();
    // The first two writes commit in Odoo, then the connection drops before the reply.
    fake.drop_reply_after_commit(2);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut report = p.run_until_idle("w").await.unwrap();
    while report.done < 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let r = p.run_until_idle("w").await.unwrap();
        report.done += r.done;
        report.retried += r.retried;
    }
    assert_eq!(report.done, 3, "{report:?}");
    assert!(
        report.retried >= 2,
        "the lost replies were retried: {report:?}"
    );
    assert_eq!(
        count_created(&fake, "lost-"),
        3,
        "exactly one record per message"
    );
    assert!(
        store
            .list_dead_letters(&DeadLetterFilter::all())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn replaying_a_done_message_does_not_create_again() {
    let fake = FakeOdoo::start().await;
    let store = Arc::new(SqliteStore::open_in_memory().await.unwrap());
    let p = pipeline(store.clone(), client(&fake), Duration::from_secs(5));
    let msgs = messages("again-", 2);
    p.submit_batch(&msgs).await.unwrap();
    assert_eq!(p.run_until_idle("w").await.unwrap().done, 2);
    // The same business effects delivered again under new message ids (a webhook sent twice).
    let again: Vec<JsonEnvelope> = msgs.iter().map(|m| m.for_replay()).collect();
    p.submit_batch(&again).await.unwrap();
    assert_eq!(p.run_until_idle("w").await.unwrap().done, 2);
    assert_eq!(count_created(&fake, "again-"), 2);
}

/// A state store lost or replaced (a new deployment, a wiped disk): the records Odoo holds under
/// their external ids are found and used, never loaded again over themselves (Odoo refuses a
/// write to a confirmed order or a posted invoice).
#[tokio::test]
async fn a_lost_state_store_finds_what_odoo_holds_and_writes_nothing() {
    let fake = FakeOdoo::start().await;
    let first = Arc::new(SqliteStore::open_in_memory().await.unwrap());
    let p = pipeline(first, client(&fake), Duration::from_secs(5));
    p.submit_batch(&messages("kept-", 3)).await.unwrap();
    assert_eq!(p.run_until_idle("w").await.unwrap().done, 3);
    // The same effects with other values, through a store that knows nothing of them.
    let renamed: Vec<JsonEnvelope> = messages("kept-", 3)
        .into_iter()
        .map(|mut m| {
            m.payload = json!({"name": "Renamed"});
            m
        })
        .collect();
    let second = Arc::new(SqliteStore::open_in_memory().await.unwrap());
    let p = pipeline(second, client(&fake), Duration::from_secs(5));
    p.submit_batch(&renamed).await.unwrap();
    assert_eq!(p.run_until_idle("w").await.unwrap().done, 3);
    assert_eq!(count_created(&fake, "kept-"), 3, "found, not written over");
    assert_eq!(
        fake.count_where("res.partner", json!([["name", "=", "Renamed"]])),
        0
    );
    // The batched path reads Odoo's external ids the same way.
    let ledger = SqliteStore::open_in_memory().await.unwrap();
    let items: Vec<(IdempotencyKey, ImportRow)> = messages("kept-", 3)
        .iter()
        .map(|m| {
            (
                m.idempotency_key.clone(),
                ImportRow::new().text("name", "Renamed"),
            )
        })
        .collect();
    let ids = odoo_connect::sync::effect::create_once_many(
        &ledger,
        &client(&fake),
        "res.partner",
        &items,
        &odoo_connect::sync::effect::BatchOptions::default(),
    )
    .await;
    assert!(ids.iter().all(Result::is_ok), "{ids:?}");
    assert_eq!(count_created(&fake, "kept-"), 3);
    assert_eq!(
        fake.count_where("res.partner", json!([["name", "=", "Renamed"]])),
        0
    );
}

// ---------------------------------------------------------------------------------------------
// A worker killed with SIGKILL in the middle of a batch.
// ---------------------------------------------------------------------------------------------

/// Not a test of its own: the body of the worker process the crash tests start and kill.
#[tokio::test]
async fn crash_worker_process() {
    let (Ok(url), Ok(key), Ok(store_spec)) = (
        std::env::var("CRASH_ODOO_URL"),
        std::env::var("CRASH_ODOO_KEY"),
        std::env::var("CRASH_STORE"),
    ) else {
        return; // only runs when a crash test starts it
    };
    let odoo = OdooClient::builder(url)
        .database("ps")
        .api_key("admin", key)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let stop = tokio::time::sleep(Duration::from_secs(120));
    if let Some(path) = store_spec.strip_prefix("sqlite:") {
        let store = Arc::new(SqliteStore::open(path).await.unwrap());
        pipeline(store, odoo, Duration::from_secs(2))
            .run("child", stop)
            .await
            .unwrap();
    } else {
        #[cfg(feature = "postgres")]
        if let Some(rest) = store_spec.strip_prefix("postgres:") {
            let (schema, url) = rest.split_once('|').unwrap();
            let store = Arc::new(
                odoo_connect::store::postgres::PostgresStore::builder(url)
                    .schema(schema)
                    .connect()
                    .await
                    .unwrap(),
            );
            pipeline(store, odoo, Duration::from_secs(2))
                .run("child", stop)
                .await
                .unwrap();
        }
    }
}

fn spawn_worker(fake: &FakeOdoo, store_spec: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash_worker_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CRASH_ODOO_URL", fake.url())
        .env("CRASH_ODOO_KEY", fake.admin_api_key())
        .env("CRASH_STORE", store_spec)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Starts a worker, kills it with SIGKILL once some records exist, then drains the queue with a
/// second worker; checks that every message was applied exactly once.
async fn crash_and_recover<S: StateStore + ?Sized + 'static>(
    fake: &FakeOdoo,
    store: Arc<S>,
    store_spec: &str,
    prefix: &str,
) {
    let n = 120;
    let p = pipeline(store.clone(), client(fake), Duration::from_secs(2));
    p.submit_batch(&messages(prefix, n)).await.unwrap();
    // Slow Odoo down so the kill lands in the middle of a batch.
    fake.set_latency(Duration::from_millis(15));
    let mut child = spawn_worker(fake, store_spec);
    let deadline = Instant::now() + Duration::from_secs(60);
    while count_created(fake, prefix) < n / 4 {
        assert!(Instant::now() < deadline, "the worker made no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let at_kill = count_created(fake, prefix);
    assert!(at_kill < n, "killed before the end ({at_kill} of {n})");
    fake.set_latency(Duration::ZERO);
    // A new worker takes over once the dead worker's leases expire.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        p.run_until_idle("restarted").await.unwrap();
        let stats = store.stats().await.unwrap();
        if stats.depth == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "queue not drained: {stats:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        count_created(fake, prefix),
        n,
        "every message applied exactly once"
    );
    assert!(
        store
            .list_dead_letters(&DeadLetterFilter::all())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_batch_on_sqlite_loses_nothing_and_duplicates_nothing() {
    let fake = FakeOdoo::start().await;
    let dir = std::env::temp_dir().join(format!("oc-crash-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.sqlite");
    let store = Arc::new(SqliteStore::open(&path).await.unwrap());
    crash_and_recover(&fake, store, &format!("sqlite:{}", path.display()), "sq-").await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use odoo_connect::store::postgres::PostgresStore;

    fn database_url() -> Option<String> {
        match std::env::var("DATABASE_URL") {
            Ok(url) if !url.is_empty() => Some(url),
            _ => {
                println!("skipped: DATABASE_URL not set");
                None
            }
        }
    }

    fn schema() -> String {
        format!(
            "oc_crash_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[cfg_attr(
        no_database,
        ignore = "skipped: DATABASE_URL not set (needs PostgreSQL)"
    )]
    async fn sigkill_mid_batch_on_postgres_loses_nothing_and_duplicates_nothing() {
        let Some(url) = database_url() else { return };
        let fake = FakeOdoo::start().await;
        let schema = schema();
        let store = Arc::new(
            PostgresStore::builder(url.clone())
                .schema(schema.clone())
                .connect()
                .await
                .unwrap(),
        );
        crash_and_recover(
            &fake,
            store.clone(),
            &format!("postgres:{schema}|{url}"),
            "pg-",
        )
        .await;
        store.drop_schema().await.unwrap();
    }

    async fn many_workers(workers: usize) {
        let Some(url) = database_url() else { return };
        let fake = FakeOdoo::start().await;
        let schema = schema();
        let prefix = format!("w{workers}-");
        let n = 200;
        let first = Arc::new(
            PostgresStore::builder(url.clone())
                .schema(schema.clone())
                .connect()
                .await
                .unwrap(),
        );
        pipeline(first.clone(), client(&fake), Duration::from_secs(10))
            .submit_batch(&messages(&prefix, n))
            .await
            .unwrap();
        let mut handles = Vec::new();
        for w in 0..workers {
            // Each worker has its own pool, as on separate machines.
            let store = Arc::new(
                PostgresStore::builder(url.clone())
                    .schema(schema.clone())
                    .connect()
                    .await
                    .unwrap(),
            );
            let p = pipeline(store, client(&fake), Duration::from_secs(10));
            handles.push(tokio::spawn(async move {
                p.run_until_idle(&format!("worker-{w}")).await.unwrap()
            }));
        }
        let mut done = 0;
        for h in handles {
            done += h.await.unwrap().done;
        }
        assert_eq!(
            done, n as u64,
            "every message applied once across {workers} workers"
        );
        assert_eq!(count_created(&fake, &prefix), n);
        assert_eq!(first.stats().await.unwrap().depth, 0);
        first.drop_schema().await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[cfg_attr(
        no_database,
        ignore = "skipped: DATABASE_URL not set (needs PostgreSQL)"
    )]
    async fn two_workers_on_postgres_apply_each_message_once() {
        many_workers(2).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[cfg_attr(
        no_database,
        ignore = "skipped: DATABASE_URL not set (needs PostgreSQL)"
    )]
    async fn four_workers_on_postgres_apply_each_message_once() {
        many_workers(4).await;
    }
}
