//! Exactly-once at the server's batched rate: 10,000 approved timesheet lines
//! (`account.analytic.line`) into the fake Odoo.
//!
//! - `create_chunked`: Odoo's batched `create`, 500 per request, two requests at a time, no
//!   ledger (the baseline);
//! - `load_chunked`: Odoo's `load` of the same rows with their external ids, 500 per request, two
//!   at a time, no ledger: what the exactly-once creations below send, without their
//!   bookkeeping (the ceiling for them);
//! - `pipeline_create_once_many`: one message per line through the pipeline (in-memory store),
//!   each step creating its line exactly once with `BatchedCreate` (one ledger claim round trip
//!   and one `load` per 500 lines; 1,500 messages under way, so one batch fills while two are
//!   loaded);
//! - `create_once_many`: the same batches without the pipeline (two loads under way at once, as
//!   `BatchOptions::concurrent_batches` sets by default, and the next batch claimed meanwhile);
//! - `pipeline_create_once`: the per-message `create_once` (one `load` per line, eight at a
//!   time), on 1,000 lines for reference.
//!
//! Each sample starts a fresh fake Odoo (not timed), so every run creates into the same data.
//! Throughput is in lines per second; compare the `thrpt` figures.
//!
//! `cargo bench --bench sync_odoo --features testkit`. The fake answers in the same process and
//! creates a row in about 10 µs, where a real Odoo spends milliseconds per record in its ORM
//! (defaults, computed fields, constraints) and tens of milliseconds per request; so by
//! default the fake takes the time of a conservative server:
//!
//! - `SYNC_BENCH_RTT_MS` (default 10): added to every reply, the round trip and the server's
//!   work per request;
//! - `SYNC_BENCH_RECORD_US` (default 200): added per record a call creates or writes
//!   (`FakeOdoo::set_record_cost`), a tenth of what batched creation of order lines is
//!   commonly measured at on a real server, so the client's own cost still shows.
//!
//! Both at 0 measure the client's own cost against an in-process server that does its work
//! at once, on the same two cores. `SYNC_BENCH_RECORDS` sets the count, `SYNC_BENCH_AHEAD` the
//! batches' worth of messages the pipeline has under way (3 by default).

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
};
use futures_util::StreamExt;
use odoo_connect::odoo::models::{Employee, Project};
use odoo_connect::odoo::{Domain, OdooClient, RecordId, RetryPolicy, Values};
use odoo_connect::store::memory::MemoryStore;
use odoo_connect::sync::effect::{
    BatchOptions, BatchedCreate, ImportRow, create_once, create_once_many, external_id,
};
use odoo_connect::sync::envelope::{Envelope, IdempotencyKey, JsonEnvelope};
use odoo_connect::sync::pipeline::Pipeline;
use odoo_connect::sync::step::from_fn;
use odoo_connect::testkit::FakeOdoo;
use serde_json::{Value, json};

const MODEL: &str = "account.analytic.line";
const CHUNK: usize = 500;

struct Setup {
    fake: FakeOdoo,
    odoo: OdooClient,
    project: RecordId,
    employee: RecordId,
}

async fn setup() -> Setup {
    let fake = FakeOdoo::start().await;
    let rtt = env_or("SYNC_BENCH_RTT_MS", 10);
    let record_us = env_or("SYNC_BENCH_RECORD_US", 200);
    let odoo = OdooClient::builder(fake.url())
        .database(fake.database())
        .api_key("admin", fake.admin_api_key())
        .retry(RetryPolicy::none())
        .max_concurrent_requests(8)
        .build()
        .expect("client");
    let project = odoo
        .model::<Project>()
        .search(Domain::new())
        .limit(1)
        .await
        .expect("project")[0];
    let employee = odoo
        .model::<Employee>()
        .search(Domain::new())
        .limit(1)
        .await
        .expect("employee")[0];
    fake.set_latency(Duration::from_millis(rtt));
    fake.set_record_cost(Duration::from_micros(record_us));
    Setup {
        fake,
        odoo,
        project,
        employee,
    }
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn hours(i: usize) -> rust_decimal::Decimal {
    rust_decimal::Decimal::new(25 * (1 + (i % 8) as i64), 2)
}

fn key(i: usize) -> IdempotencyKey {
    IdempotencyKey::for_effect("time", &format!("TE-{i}"), "approved", "timesheet").expect("key")
}

fn row(i: usize, project: RecordId, employee: RecordId) -> ImportRow {
    ImportRow::new()
        .text("name", format!("Work item {i}"))
        .many2one("project_id", project)
        .many2one("employee_id", employee)
        .text("date", "2026-11-20")
        .number("unit_amount", hours(i))
}

fn envelopes(n: usize) -> Vec<JsonEnvelope> {
    (0..n)
        .map(|i| {
            Envelope::builder(key(i), json!({"i": i}))
                .source("time")
                .legal_entity("BE".parse().unwrap())
                .build()
                .expect("envelope")
                .to_json()
                .expect("json")
        })
        .collect()
}

/// Creates `n` lines with Odoo's batched `create`.
async fn chunked(n: usize) -> Duration {
    let s = setup().await;
    let values: Vec<Values> = (0..n)
        .map(|i| {
            Values::new()
                .set("name", format!("Work item {i}"))
                .many2one("project_id", Some(s.project))
                .many2one("employee_id", Some(s.employee))
                .set("date", "2026-11-20")
                .decimal("unit_amount", hours(i))
        })
        .collect();
    let h = s.odoo.model_named::<Value>(MODEL);
    let t = Instant::now();
    let ids = h.create_chunked(&values, CHUNK, 2).await.expect("create");
    let took = t.elapsed();
    assert_eq!(ids.len(), n);
    took
}

/// Loads `n` lines with their external ids, without a ledger.
async fn load_chunked(n: usize) -> Duration {
    let s = setup().await;
    let rows: Vec<ImportRow> = (0..n).map(|i| row(i, s.project, s.employee)).collect();
    let mut fields = vec!["id".to_owned()];
    fields.extend(rows[0].columns().0);
    let field_refs: Vec<&str> = fields.iter().map(String::as_str).collect();
    let h = s.odoo.model_named::<Value>(MODEL);
    let t = Instant::now();
    let loaded: Vec<usize> = futures_util::stream::iter(rows.chunks(CHUNK).enumerate())
        .map(|(c, chunk)| {
            let data: Vec<Vec<Value>> = chunk
                .iter()
                .enumerate()
                .map(|(j, r)| {
                    let key = key(c * CHUNK + j);
                    let mut cells = vec![Value::String(external_id(&key))];
                    cells.extend(r.columns().1.into_iter().map(Value::String));
                    cells
                })
                .collect();
            let (h, field_refs) = (&h, &field_refs);
            async move {
                let load = h.load(field_refs, data).await.expect("load");
                load.into_ids().expect("ids").len()
            }
        })
        .buffered(2)
        .collect()
        .await;
    let took = t.elapsed();
    assert_eq!(loaded.iter().sum::<usize>(), n);
    took
}

/// Creates `n` lines exactly once with `create_once_many`, without the pipeline.
async fn once_many(n: usize) -> Duration {
    let s = setup().await;
    let items: Vec<(IdempotencyKey, ImportRow)> = (0..n)
        .map(|i| (key(i), row(i, s.project, s.employee)))
        .collect();
    let ledger = MemoryStore::new();
    let options = BatchOptions::default()
        .max_rows(CHUNK)
        .concurrent_batches(2);
    let t = Instant::now();
    let out = create_once_many(&ledger, &s.odoo, MODEL, &items, &options).await;
    let took = t.elapsed();
    assert!(out.iter().all(Result::is_ok));
    took
}

/// Runs `n` messages through the pipeline, each creating its line exactly once, batched or
/// one `load` per message.
async fn through_pipeline(n: usize, batched: bool) -> Duration {
    let s = setup().await;
    let store = Arc::new(MemoryStore::new());
    let (project, employee) = (s.project, s.employee);
    let lines = BatchedCreate::new(
        s.odoo.clone(),
        MODEL,
        BatchOptions::default()
            .max_rows(CHUNK)
            .concurrent_batches(2),
    );
    let odoo = s.odoo.clone();
    // Batched: three batches' worth of messages under way (`SYNC_BENCH_AHEAD` sets how many),
    // so that one batch fills while two are loaded (`BatchOptions::concurrent_batches(2)`, as
    // for `create_chunked`).
    let ahead: usize = std::env::var("SYNC_BENCH_AHEAD")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let pipeline = Pipeline::builder("approved-time", store)
        .batch_size(if batched { ahead * CHUNK } else { CHUNK })
        .concurrency(if batched { ahead * CHUNK } else { 8 })
        .step(from_fn("timesheet", move |cx| {
            let lines = lines.clone();
            let odoo = odoo.clone();
            Box::pin(async move {
                let i = cx.envelope.payload["i"].as_u64().unwrap_or_default() as usize;
                let key = cx.envelope.idempotency_key.clone();
                let row = row(i, project, employee);
                let created = if batched {
                    lines.create_once(cx, &key, &row).await
                } else {
                    create_once(cx, &odoo, MODEL, &key, &row).await
                };
                created.map(|_| ())
            })
        }))
        .build();
    pipeline.submit_batch(&envelopes(n)).await.expect("submit");
    let t = Instant::now();
    let report = pipeline.run_until_idle("bench").await.expect("run");
    let took = t.elapsed();
    assert_eq!(report.done, n as u64, "{report:?}");
    assert_eq!(
        s.fake
            .count_where(MODEL, json!([["name", "=like", "Work item %"]])),
        n
    );
    took
}

/// Times `run(n)` once per iteration (each run sets up its own fake, not timed).
fn case<F, Fut>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    rt: &tokio::runtime::Runtime,
    name: &str,
    n: usize,
    run: F,
) where
    F: Fn(usize) -> Fut + Copy,
    Fut: Future<Output = Duration>,
{
    g.bench_function(BenchmarkId::new(name, n), |b| {
        b.to_async(rt).iter_custom(|iters| async move {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                total += run(n).await;
            }
            total
        })
    });
}

fn bench(c: &mut Criterion) {
    let n: usize = std::env::var("SYNC_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let reference = (n / 10).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut g = c.benchmark_group("sync_odoo");
    g.sample_size(10);
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(5));

    g.throughput(Throughput::Elements(n as u64));
    case(&mut g, &rt, "create_chunked", n, chunked);
    case(&mut g, &rt, "load_chunked", n, load_chunked);
    case(&mut g, &rt, "pipeline_create_once_many", n, |n| {
        through_pipeline(n, true)
    });
    case(&mut g, &rt, "create_once_many", n, once_many);
    g.throughput(Throughput::Elements(reference as u64));
    case(&mut g, &rt, "pipeline_create_once", reference, |n| {
        through_pipeline(n, false)
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
