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
                .legal_entity("BE".parse().unwrap())
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

/// Set in the worker process a crash test starts, this test binary run again for that same test:
/// the store (`sqlite:PATH` or `postgres:SCHEMA|URL`). Seeing it, the test function is the
/// worker instead of the test.
const CRASH_STORE: &str = "ODOO_CONNECT_TEST_CRASH_STORE";
/// The fake Odoo's address and the administrator's API key, beside `CRASH_STORE`.
const CRASH_ODOO_URL: &str = "ODOO_CONNECT_TEST_CRASH_ODOO_URL";
const CRASH_ODOO_KEY: &str = "ODOO_CONNECT_TEST_CRASH_ODOO_KEY";

/// In the worker process a crash test started: runs the pipeline on the store and the fake Odoo
/// the environment names until the test kills it, and returns `true`. In the test itself, returns
/// `false` at once.
async fn run_as_crash_worker() -> bool {
    let Some(store_spec) = std::env::var_os(CRASH_STORE) else {
        return false;
    };
    let store_spec = store_spec.into_string().expect("the crash store is UTF-8");
    let url = std::env::var(CRASH_ODOO_URL).expect("the crash test gives the fake Odoo's URL");
    let key = std::env::var(CRASH_ODOO_KEY).expect("the crash test gives the fake Odoo's key");
    let odoo = OdooClient::builder(url)
        .database("ps")
        .api_key("admin", key)
        .retry(RetryPolicy::none())
        .build()
        .expect("a client of the fake Odoo");
    // Killed long before; the bound only keeps a worker whose test is gone from running on.
    let stop = tokio::time::sleep(Duration::from_secs(120));
    if let Some(path) = store_spec.strip_prefix("sqlite:") {
        let store = SqliteStore::open(path)
            .await
            .expect("the crash test's SQLite file opens");
        pipeline(Arc::new(store), odoo, Duration::from_secs(2))
            .run("child", stop)
            .await
            .expect("the worker runs");
        return true;
    }
    #[cfg(feature = "postgres")]
    if let Some(rest) = store_spec.strip_prefix("postgres:") {
        let (schema, url) = rest
            .split_once('|')
            .expect("the crash store names a schema and a URL");
        let store = odoo_connect::store::postgres::PostgresStore::builder(url)
            .schema(schema)
            .connect()
            .await
            .expect("the crash test's PostgreSQL schema opens");
        pipeline(Arc::new(store), odoo, Duration::from_secs(2))
            .run("child", stop)
            .await
            .expect("the worker runs");
        return true;
    }
    panic!("no store for the crash worker: {store_spec:?}");
}

/// The worker process of a crash test: this test binary run again for `test` alone, the test
/// that starts it. Killed and reaped when dropped, so that a failing test leaves none behind.
struct CrashWorker {
    child: Child,
    test: String,
}

impl CrashWorker {
    fn start(test: &str, fake: &FakeOdoo, store_spec: &str) -> CrashWorker {
        let exe = std::env::current_exe().expect("the test binary's path");
        let child = Command::new(exe)
            .args([
                test,
                "--exact",
                "--include-ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CRASH_STORE, store_spec)
            .env(CRASH_ODOO_URL, fake.url())
            .env(CRASH_ODOO_KEY, fake.admin_api_key())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the worker process starts");
        CrashWorker {
            child,
            test: test.to_owned(),
        }
    }

    /// Fails the test when the worker has ended: it runs until it is killed.
    fn assert_running(&mut self) {
        match self.child.try_wait() {
            Ok(None) => {}
            Ok(Some(status)) => {
                // A run of the test binary whose name filter matches no test ends at once, and
                // with success.
                let hint = if status.success() {
                    " (no test of that name?)"
                } else {
                    ""
                };
                let stderr = self.stderr();
                panic!(
                    "the worker process (`{}` run again) ended by itself, {status}{hint}:\n{stderr}",
                    self.test
                )
            }
            Err(e) => panic!("the worker process cannot be waited for: {e}"),
        }
    }

    /// Kills the worker with SIGKILL; fails the test when it had ended by itself before.
    fn kill(mut self) {
        self.assert_running();
        self.child.kill().expect("SIGKILL");
        let status = self.child.wait().expect("the killed worker is reaped");
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(status.signal(), Some(9), "the worker was killed: {status}");
        }
        #[cfg(not(unix))]
        assert!(!status.success(), "the worker was killed: {status}");
    }

    /// What the worker wrote to its standard error (it has ended).
    fn stderr(&mut self) -> String {
        use std::io::Read;
        let mut text = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            let _ = stderr.read_to_string(&mut text);
        }
        text
    }
}

impl Drop for CrashWorker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a worker, the test `test` run again in a process of its own, kills it with SIGKILL
/// once some records exist, then drains the queue with a second worker; checks that every
/// message was applied exactly once.
async fn crash_and_recover<S: StateStore + ?Sized + 'static>(
    test: &str,
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
    let mut worker = CrashWorker::start(test, fake, store_spec);
    let deadline = Instant::now() + Duration::from_secs(60);
    while count_created(fake, prefix) < n / 4 {
        worker.assert_running();
        assert!(Instant::now() < deadline, "the worker made no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    worker.kill();
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
    const TEST: &str = "sigkill_mid_batch_on_sqlite_loses_nothing_and_duplicates_nothing";
    if run_as_crash_worker().await {
        return;
    }
    let fake = FakeOdoo::start().await;
    let dir = std::env::temp_dir().join(format!("oc-crash-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.sqlite");
    let store = Arc::new(SqliteStore::open(&path).await.unwrap());
    let spec = format!("sqlite:{}", path.display());
    crash_and_recover(TEST, &fake, store, &spec, "sq-").await;
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
        const TEST: &str =
            "postgres::sigkill_mid_batch_on_postgres_loses_nothing_and_duplicates_nothing";
        if run_as_crash_worker().await {
            return;
        }
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
            TEST,
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
