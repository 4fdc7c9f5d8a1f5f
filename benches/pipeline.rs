//! Throughput of the whole pipeline with a no-op effect: submit, lease, run the steps, settle,
//! audit. In memory, on SQLite (a durable file) and on PostgreSQL with 1, 2 and 4 workers; each
//! also with an idempotency-ledger claim per message (the cost of the exactly-once ledger).
//!
//! Every case runs twice in the same process, with per-message acks (the default
//! `AckPolicy::per_message()`) and with whole-batch acks (`AckPolicy::whole_batch()`, a batch
//! acked in one write once all of it finished), and prints the ratio per-message / whole-batch.
//!
//! `cargo bench --bench pipeline --all-features` (PostgreSQL needs `DATABASE_URL`; without it those
//! rows are skipped). Settings, from the environment:
//! - `PIPELINE_BENCH_SCALE` (default 1.0) scales the message counts;
//! - `PIPELINE_BENCH_REPEAT` (default 3): runs of each policy, interleaved; the median is shown;
//! - `PIPELINE_BENCH_ONLY`: `memory`, `sqlite` or `postgres` to run only those rows;
//! - `PIPELINE_BENCH_GROUP=N[,LINGER_MS]`: also runs per-message acks with groups of at most `N`
//!   (and that linger), to compare group sizes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use odoo_connect::store::memory::MemoryStore;
use odoo_connect::sync::envelope::{Envelope, IdempotencyKey, JsonEnvelope};
use odoo_connect::sync::pipeline::{AckPolicy, Pipeline};
use odoo_connect::sync::step::{Stop, from_fn};
use odoo_connect::sync::store::{Begin, StateStore};
use serde_json::json;

const LANES: usize = 1000;

fn messages(n: usize) -> Vec<JsonEnvelope> {
    (0..n)
        .map(|i| {
            let key = IdempotencyKey::for_effect(
                "contract",
                &(i % LANES).to_string(),
                &format!("v{}", i / LANES),
                "apply",
            )
            .expect("key");
            Envelope::builder(key, json!({"i": i}))
                .source("bench")
                .legal_entity("BE".parse().unwrap())
                .build()
                .expect("envelope")
                .to_json()
                .expect("json")
        })
        .collect()
}

fn pipeline<S: StateStore + ?Sized + 'static>(
    store: Arc<S>,
    ledger: bool,
    acks: AckPolicy,
) -> Pipeline<S> {
    Pipeline::builder("bench", store)
        .step(from_fn("noop", move |cx| {
            Box::pin(async move {
                if ledger {
                    let key = cx.envelope.idempotency_key.clone();
                    match cx
                        .ledger()
                        .begin(&key, &json!({}), Duration::from_secs(60))
                        .await
                    {
                        Ok(Begin::New(claim)) | Ok(Begin::Resumed { claim, .. }) => {
                            if let Err(e) = cx.ledger().complete(&claim, &json!({"id": 1})).await {
                                return Err(Stop::retry(e));
                            }
                        }
                        Ok(_) => {}
                        Err(e) => return Err(Stop::retry(e)),
                    }
                }
                Ok(())
            })
        }))
        .batch_size(200)
        .concurrency(16)
        .acks(acks)
        .build()
}

/// Submits `n` messages and runs one worker per store until the queue is empty; messages/s.
async fn run<S: StateStore + ?Sized + 'static>(
    workers: Vec<Arc<S>>,
    n: usize,
    ledger: bool,
    acks: AckPolicy,
) -> f64 {
    let msgs = messages(n);
    let first = pipeline(workers[0].clone(), ledger, acks);
    let started = Instant::now();
    for chunk in msgs.chunks(500) {
        first.submit_batch(chunk).await.expect("submit");
    }
    let mut handles = Vec::new();
    for (w, store) in workers.into_iter().enumerate() {
        let p = pipeline(store, ledger, acks);
        handles.push(tokio::spawn(async move {
            p.run_until_idle(&format!("w{w}")).await.expect("run").done
        }));
    }
    let mut done = 0;
    for h in handles {
        done += h.await.expect("join");
    }
    assert_eq!(done as usize, n, "every message applied once");
    n as f64 / started.elapsed().as_secs_f64()
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|s| !s.is_empty())
}

fn scaled(n: usize) -> usize {
    let scale: f64 = env("PIPELINE_BENCH_SCALE")
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    ((n as f64 * scale) as usize).max(LANES)
}

fn repeat() -> usize {
    env("PIPELINE_BENCH_REPEAT")
        .and_then(|s| s.parse().ok())
        .unwrap_or(3usize)
        .max(1)
}

fn wanted(backend: &str) -> bool {
    env("PIPELINE_BENCH_ONLY").is_none_or(|only| only.split(',').any(|b| b.trim() == backend))
}

/// The policies compared: whole-batch first (the base of the ratios), the default, and the
/// group asked for by `PIPELINE_BENCH_GROUP`.
fn policies() -> Vec<(String, AckPolicy)> {
    let mut out = vec![
        ("whole-batch".to_owned(), AckPolicy::whole_batch()),
        ("per-message".to_owned(), AckPolicy::per_message()),
    ];
    if let Some(spec) = env("PIPELINE_BENCH_GROUP") {
        let mut parts = spec.split(',').map(str::trim);
        let group: Option<usize> = parts.next().and_then(|g| g.parse().ok());
        let linger: Option<u64> = parts.next().and_then(|l| l.parse().ok());
        if let Some(group) = group {
            let mut policy = AckPolicy::per_message().max_group(group);
            let mut label = format!("group={group}");
            if let Some(ms) = linger {
                policy = policy.linger(Duration::from_millis(ms));
                label.push_str(&format!(",{ms}ms"));
            }
            out.push((label, policy));
        }
    }
    out
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let mid = xs.len() / 2;
    if xs.len().is_multiple_of(2) {
        (xs[mid - 1] + xs[mid]) / 2.0
    } else {
        xs[mid]
    }
}

/// Runs every policy `repeat()` times, interleaved (so that a slower moment of the machine
/// weighs on all of them), and prints the medians with their ratio to whole-batch acks.
async fn compare<F, Fut>(backend: &str, workers: usize, ledger: bool, mut once: F)
where
    F: FnMut(AckPolicy) -> Fut,
    Fut: std::future::Future<Output = f64>,
{
    let policies = policies();
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); policies.len()];
    for round in 0..repeat() {
        // Alternate the order too: the first run of a round may find a colder cache.
        let order: Vec<usize> = if round % 2 == 0 {
            (0..policies.len()).collect()
        } else {
            (0..policies.len()).rev().collect()
        };
        for i in order {
            rates[i].push(once(policies[i].1).await);
        }
    }
    let medians: Vec<f64> = rates.into_iter().map(median).collect();
    let base = medians[0];
    for ((label, _), rate) in policies.iter().zip(&medians) {
        println!(
            "{backend:<10} workers={workers} ledger={:<3} acks={label:<14} {rate:>9.0} msg/s  {:.2}x of whole-batch",
            if ledger { "yes" } else { "no" },
            rate / base,
        );
    }
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        println!(
            "pipeline throughput, no-op effect, submit to settle ({LANES} lanes, batch 200, \
             concurrency 16, median of {} runs)",
            repeat()
        );
        if wanted("memory") {
            for ledger in [false, true] {
                compare("memory", 1, ledger, |acks| {
                    run(
                        vec![Arc::new(MemoryStore::new())],
                        scaled(100_000),
                        ledger,
                        acks,
                    )
                })
                .await;
            }
        }
        #[cfg(feature = "sqlite")]
        if wanted("sqlite") {
            for ledger in [false, true] {
                compare("sqlite", 1, ledger, |acks| {
                    sqlite(scaled(20_000), ledger, acks)
                })
                .await;
            }
        }
        #[cfg(feature = "postgres")]
        if wanted("postgres") {
            postgres().await;
        }
    });
}

/// One run on a new SQLite file.
#[cfg(feature = "sqlite")]
async fn sqlite(n: usize, ledger: bool, acks: AckPolicy) -> f64 {
    use odoo_connect::store::sqlite::SqliteStore;
    let dir = std::env::temp_dir().join(format!("oc-pbench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let s = Arc::new(SqliteStore::open(dir.join("state.db")).await.expect("open"));
    let rate = run(vec![s.clone()], n, ledger, acks).await;
    s.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    rate
}

/// One run on a new PostgreSQL schema, one store (pool) per worker.
#[cfg(feature = "postgres")]
async fn postgres_once(url: &str, workers: usize, n: usize, ledger: bool, acks: AckPolicy) -> f64 {
    use odoo_connect::store::postgres::PostgresStore;
    let schema = format!(
        "oc_pbench_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let mut stores = Vec::new();
    for _ in 0..workers {
        stores.push(Arc::new(
            PostgresStore::builder(url.to_owned())
                .schema(schema.clone())
                .max_connections(4)
                .connect()
                .await
                .expect("connect"),
        ));
    }
    let rate = run(stores.clone(), n, ledger, acks).await;
    stores[0].drop_schema().await.expect("drop");
    rate
}

#[cfg(feature = "postgres")]
async fn postgres() {
    let Some(url) = env("DATABASE_URL") else {
        println!("postgres   skipped: DATABASE_URL not set");
        return;
    };
    for workers in [1usize, 2, 4] {
        for ledger in [false, true] {
            compare("postgres", workers, ledger, |acks| {
                postgres_once(&url, workers, scaled(10_000), ledger, acks)
            })
            .await;
        }
    }
}
