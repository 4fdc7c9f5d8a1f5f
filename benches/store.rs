//! Throughput of the state stores: enqueue, then lease + ack in batches, with and without an
//! idempotency-ledger `begin` + `complete` per message.
//!
//! `cargo bench --bench store --features postgres` (PostgreSQL needs `DATABASE_URL`; without it
//! those rows are skipped). Prints messages per second; `STORE_BENCH_SCALE` (default 1.0)
//! scales the message counts.

use std::time::{Duration, Instant};

use odoo_connect::store::memory::MemoryStore;
use odoo_connect::sync::envelope::{Envelope, IdempotencyKey, JsonEnvelope};
use odoo_connect::sync::store::{Begin, StateStore};
use serde_json::json;

const LANES: usize = 1000;
const LEASE_BATCH: usize = 100;
const ENQUEUE_BATCH: usize = 500;

fn messages(n: usize) -> Vec<JsonEnvelope> {
    (0..n)
        .map(|i| {
            let lane = i % LANES;
            let key = IdempotencyKey::for_effect(
                "contract",
                &lane.to_string(),
                &format!("v{}", i / LANES),
                "apply",
            )
            .expect("key");
            Envelope::builder(
                key,
                json!({"i": i, "amount": "1250.00", "name": "Audit 2025"}),
            )
            .source("bench")
            .legal_entity("acme-be".parse().unwrap())
            .build()
            .expect("envelope")
        })
        .collect()
}

/// How the ledger is used while draining.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Ledger {
    /// Not at all.
    Off,
    /// `begin` + `complete` per message.
    PerMessage,
    /// `begin_many` + `complete_many` per leased batch.
    Batched,
}

async fn drain<S: StateStore>(store: S, worker: String, ledger: Ledger) -> usize {
    let mut done = 0;
    let mut idle = 0;
    loop {
        let leased = store
            .lease(&worker, LEASE_BATCH, Duration::from_secs(60))
            .await
            .expect("lease");
        if leased.is_empty() {
            if store.stats().await.expect("stats").depth == 0 || idle > 2000 {
                return done;
            }
            idle += 1;
            tokio::time::sleep(Duration::from_micros(200)).await;
            continue;
        }
        idle = 0;
        if ledger == Ledger::Batched {
            let requests: Vec<_> = leased
                .iter()
                .map(|m| {
                    (
                        m.envelope.idempotency_key.clone(),
                        json!({"effect": "apply"}),
                    )
                })
                .collect();
            let answers = store
                .begin_many(&requests, Duration::from_secs(60))
                .await
                .expect("begin_many");
            let completions: Vec<_> = answers
                .into_iter()
                .filter_map(|b| match b {
                    Begin::New(c) | Begin::Resumed { claim: c, .. } => Some((c, json!({"id": 1}))),
                    _ => None,
                })
                .collect();
            store
                .complete_many(&completions)
                .await
                .expect("complete_many");
        }
        if ledger == Ledger::PerMessage {
            for m in &leased {
                let key = &m.envelope.idempotency_key;
                match store
                    .begin(key, &json!({"effect": "apply"}), Duration::from_secs(60))
                    .await
                    .expect("begin")
                {
                    Begin::New(claim) | Begin::Resumed { claim, .. } => store
                        .complete(&claim, &json!({"id": 1}))
                        .await
                        .expect("complete"),
                    _ => {}
                }
            }
        }
        let leases: Vec<_> = leased.into_iter().map(|m| m.lease).collect();
        done += store.ack(&leases).await.expect("ack").len();
    }
}

struct Figures {
    enqueue: f64,
    drain: f64,
    total: f64,
}

async fn run<S: StateStore + Clone + 'static>(
    setup: &S,
    workers: Vec<S>,
    n: usize,
    ledger: Ledger,
) -> Figures {
    let msgs = messages(n);
    let t0 = Instant::now();
    for chunk in msgs.chunks(ENQUEUE_BATCH) {
        setup.enqueue_batch(chunk).await.expect("enqueue");
    }
    let enq = t0.elapsed();
    let t1 = Instant::now();
    let mut tasks = Vec::new();
    for (i, w) in workers.into_iter().enumerate() {
        tasks.push(tokio::spawn(drain(w, format!("w{i}"), ledger)));
    }
    let mut done = 0;
    for t in tasks {
        done += t.await.expect("worker");
    }
    let dr = t1.elapsed();
    assert_eq!(done, n, "every message acked once");
    Figures {
        enqueue: n as f64 / enq.as_secs_f64(),
        drain: n as f64 / dr.as_secs_f64(),
        total: n as f64 / (enq + dr).as_secs_f64(),
    }
}

fn report(name: &str, workers: usize, ledger: Ledger, n: usize, f: &Figures) {
    println!(
        "{name:<10} workers={workers} ledger={:<10} n={n:>7}  enqueue {:>9.0} msg/s  lease+ack {:>9.0} msg/s  end-to-end {:>9.0} msg/s",
        format!("{ledger:?}"),
        f.enqueue,
        f.drain,
        f.total
    );
}

fn scaled(n: usize) -> usize {
    let scale: f64 = std::env::var("STORE_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    ((n as f64 * scale) as usize).max(LANES)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    println!("state store throughput (lease batch {LEASE_BATCH}, {LANES} lanes)");
    for ledger in [Ledger::Off, Ledger::PerMessage, Ledger::Batched] {
        let n = scaled(200_000);
        let s = MemoryStore::new();
        let f = run(&s, vec![s.clone()], n, ledger).await;
        report("memory", 1, ledger, n, &f);
    }

    #[cfg(feature = "sqlite")]
    for ledger in [Ledger::Off, Ledger::PerMessage, Ledger::Batched] {
        use odoo_connect::store::sqlite::SqliteStore;
        let dir = std::env::temp_dir().join(format!("oc-bench-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let s = SqliteStore::open(dir.join("state.db")).await.expect("open");
        let n = scaled(50_000);
        let f = run(&s, vec![s.clone()], n, ledger).await;
        report("sqlite", 1, ledger, n, &f);
        s.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[cfg(feature = "postgres")]
    postgres().await;
}

#[cfg(feature = "postgres")]
async fn postgres() {
    use odoo_connect::store::postgres::PostgresStore;
    let Ok(url) = std::env::var("DATABASE_URL") else {
        println!("postgres   skipped: DATABASE_URL not set");
        return;
    };
    for ledger in [Ledger::Off, Ledger::PerMessage, Ledger::Batched] {
        for workers in [1, 2, 4] {
            let schema = format!(
                "oc_bench_{}",
                &uuid::Uuid::new_v4().simple().to_string()[..12]
            );
            let open = || {
                PostgresStore::builder(url.clone())
                    .schema(schema.clone())
                    .max_connections(1)
                    .connect()
            };
            let setup = open().await.expect("connect");
            let mut ws = Vec::new();
            for _ in 0..workers {
                ws.push(open().await.expect("connect worker"));
            }
            // A commit per ledger call makes the per-message run slow: keep it shorter.
            let n = scaled(if ledger == Ledger::PerMessage {
                4_000
            } else {
                20_000
            });
            let f = run(&setup, ws, n, ledger).await;
            report("postgres", workers, ledger, n, &f);
            setup.drop_schema().await.expect("drop schema");
            setup.close().await;
        }
    }
}
