//! Throughput of the whole pipeline with a no-op effect: submit, lease, run the steps, settle,
//! audit. In memory, on SQLite (a durable file) and on PostgreSQL with 1, 2 and 4 workers; each
//! also with an idempotency-ledger claim per message (the cost of the exactly-once ledger).
//!
//! `cargo bench --bench pipeline --all-features` (PostgreSQL needs `DATABASE_URL`; without it those
//! rows are skipped). `PIPELINE_BENCH_SCALE` (default 1.0) scales the message counts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use odoo_connect::store::memory::MemoryStore;
use odoo_connect::sync::envelope::{Envelope, IdempotencyKey, JsonEnvelope};
use odoo_connect::sync::pipeline::Pipeline;
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
                .legal_entity("BE")
                .build()
                .expect("envelope")
                .to_json()
                .expect("json")
        })
        .collect()
}

fn pipeline<S: StateStore + ?Sized + 'static>(store: Arc<S>, ledger: bool) -> Pipeline<S> {
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
        .build()
}

async fn run<S: StateStore + ?Sized + 'static>(
    workers: Vec<Arc<S>>,
    n: usize,
    ledger: bool,
) -> f64 {
    let msgs = messages(n);
    let first = pipeline(workers[0].clone(), ledger);
    let started = Instant::now();
    for chunk in msgs.chunks(500) {
        first.submit_batch(chunk).await.expect("submit");
    }
    let mut handles = Vec::new();
    for (w, store) in workers.into_iter().enumerate() {
        let p = pipeline(store, ledger);
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

fn scaled(n: usize) -> usize {
    let scale: f64 = std::env::var("PIPELINE_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    ((n as f64 * scale) as usize).max(LANES)
}

fn report(backend: &str, workers: usize, ledger: bool, rate: f64, base: Option<f64>) {
    let ratio = base
        .map(|b| format!("  ({:.2}x of the run without ledger)", rate / b))
        .unwrap_or_default();
    println!(
        "{backend:<10} workers={workers} ledger={:<3} {rate:>10.0} msg/s{ratio}",
        if ledger { "yes" } else { "no" }
    );
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
        println!("pipeline throughput, no-op effect, submit to settle ({LANES} lanes)");
        let mut base = None;
        for ledger in [false, true] {
            let rate = run(vec![Arc::new(MemoryStore::new())], scaled(100_000), ledger).await;
            report("memory", 1, ledger, rate, if ledger { base } else { None });
            base = Some(rate);
        }
        #[cfg(feature = "sqlite")]
        {
            use odoo_connect::store::sqlite::SqliteStore;
            let mut base = None;
            for ledger in [false, true] {
                let dir = std::env::temp_dir()
                    .join(format!("oc-pbench-{}", uuid::Uuid::new_v4().simple()));
                std::fs::create_dir_all(&dir).expect("dir");
                let s = Arc::new(SqliteStore::open(dir.join("state.db")).await.expect("open"));
                let rate = run(vec![s.clone()], scaled(20_000), ledger).await;
                report("sqlite", 1, ledger, rate, if ledger { base } else { None });
                base = Some(rate);
                s.close().await;
                let _ = std::fs::remove_dir_all(&dir);
            }
        }
        #[cfg(feature = "postgres")]
        postgres().await;
    });
}

#[cfg(feature = "postgres")]
async fn postgres() {
    use odoo_connect::store::postgres::PostgresStore;
    let Ok(url) = std::env::var("DATABASE_URL") else {
        println!("postgres   skipped: DATABASE_URL not set");
        return;
    };
    for workers in [1usize, 2, 4] {
        let mut base = None;
        for ledger in [false, true] {
            let schema = format!(
                "oc_pbench_{}",
                &uuid::Uuid::new_v4().simple().to_string()[..12]
            );
            let mut stores = Vec::new();
            for _ in 0..workers {
                stores.push(Arc::new(
                    PostgresStore::builder(url.clone())
                        .schema(schema.clone())
                        .max_connections(4)
                        .connect()
                        .await
                        .expect("connect"),
                ));
            }
            let rate = run(stores.clone(), scaled(10_000), ledger).await;
            report(
                "postgres",
                workers,
                ledger,
                rate,
                if ledger { base } else { None },
            );
            base = Some(rate);
            stores[0].drop_schema().await.expect("drop");
        }
    }
}
