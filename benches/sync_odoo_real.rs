//! Exactly-once creation through the pipeline against Odoo's own batched `create`, on the real
//! Odoo of `ODOO_URL` (see `tests/real_odoo`): `N` timesheet lines (`SYNC_BENCH_RECORDS`, default
//! 10,000) on a project of the server, each case with lines of its own, in one run.
//!
//! - `create_chunked/k`: `ModelHandle::create_chunked` in chunks of 500, `k` calls in flight;
//! - `load_chunked/k`: the same lines with external ids through `load`, no ledger (the ceiling of
//!   exactly-once creation, which goes through `load`);
//! - `pipeline/k`: one message per line through a pipeline on an SQLite state store whose step
//!   creates its line with `BatchedCreate` (chunks of 500, `BatchOptions::concurrent_batches(k)`),
//!   every line exactly once (ledger, external ids).
//!
//! Prints lines per second, the ratio of each pipeline case to `create_chunked` with as many
//! calls in flight, and the dead letters (there must be none). Without `ODOO_URL` it says so and
//! exits.
//!
//! ```sh
//! eval "$(../shared/odoo/serve env)"
//! cargo bench --bench sync_odoo_real --all-features
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use odoo_connect::odoo::{OdooClient, RecordId, RetryPolicy, Values};
use odoo_connect::store::sqlite::SqliteStore;
use odoo_connect::sync::effect::{BatchOptions, BatchedCreate, ImportRow};
use odoo_connect::sync::envelope::{Envelope, IdempotencyKey, JsonEnvelope};
use odoo_connect::sync::pipeline::Pipeline;
use odoo_connect::sync::step::from_fn;
use odoo_connect::sync::store::{DeadLetterFilter, DeadLetters, WorkQueue};
use serde_json::{Value, json};

#[path = "../tests/support/timesheets.rs"]
mod timesheets;

const MODEL: &str = "account.analytic.line";
const CHUNK: usize = 500;

struct Server {
    odoo: OdooClient,
    project: RecordId,
    employee: RecordId,
    tag: String,
}

fn hours(i: usize) -> rust_decimal::Decimal {
    rust_decimal::Decimal::new(25 + (i % 8) as i64 * 25, 2)
}

fn name(tag: &str, case: &str, i: usize) -> String {
    format!("Bench {tag} {case} {i}")
}

async fn chunked(s: &Server, n: usize, in_flight: usize) -> (Duration, usize) {
    let case = format!("chunked{in_flight}");
    let values: Vec<Values> = (0..n)
        .map(|i| {
            Values::new()
                .set("name", name(&s.tag, &case, i))
                .many2one("project_id", Some(s.project))
                .many2one("employee_id", Some(s.employee))
                .set("date", "2026-11-20")
                .set(
                    "unit_amount",
                    hours(i).to_string().parse::<f64>().unwrap_or(0.0),
                )
        })
        .collect();
    let t = Instant::now();
    let ids = s
        .odoo
        .model_named::<Value>(MODEL)
        .create_chunked(&values, CHUNK, in_flight)
        .await
        .expect("create_chunked");
    (t.elapsed(), ids.len())
}

/// The same lines with their external ids through `load`, `in_flight` calls at once, without a
/// ledger (a load rolled back by a concurrent one goes again): the ceiling of any exactly-once
/// creation, which has to go through `load`.
async fn load_chunked(s: &Server, n: usize, in_flight: usize) -> (Duration, usize) {
    use futures_util::StreamExt;
    let case = format!("load{in_flight}");
    let fields = [
        "id",
        "name",
        "project_id/.id",
        "employee_id/.id",
        "date",
        "unit_amount",
    ];
    let rows: Vec<Vec<Value>> = (0..n)
        .map(|i| {
            vec![
                Value::String(format!("__bench__.{}_{case}_{i}", s.tag)),
                Value::String(name(&s.tag, &case, i)),
                Value::String(s.project.to_string()),
                Value::String(s.employee.to_string()),
                Value::String("2026-11-20".into()),
                Value::String(hours(i).to_string()),
            ]
        })
        .collect();
    let h = s.odoo.model_named::<Value>(MODEL);
    let t = Instant::now();
    let loaded: Vec<usize> = futures_util::stream::iter(rows.chunks(CHUNK))
        .map(|chunk| {
            let h = &h;
            async move {
                // A load a concurrent one rolled back (a serialisation failure) goes again.
                loop {
                    let load = h.load(&fields, chunk.to_vec()).await.expect("load");
                    if load.is_transient() {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                    break load.into_ids().expect("ids").len();
                }
            }
        })
        .buffered(in_flight)
        .collect()
        .await;
    (t.elapsed(), loaded.iter().sum())
}

async fn pipeline(s: &Server, n: usize, concurrent: usize) -> (Duration, usize, usize) {
    let case = format!("pipeline{concurrent}");
    let dir = std::env::temp_dir().join(format!("odoo-connect-bench-{}-{case}", s.tag));
    std::fs::create_dir_all(&dir).expect("state dir");
    let store = Arc::new(
        SqliteStore::open(dir.join("state.sqlite"))
            .await
            .expect("sqlite"),
    );
    let lines = BatchedCreate::new(
        s.odoo.clone(),
        MODEL,
        BatchOptions::default()
            .max_rows(CHUNK)
            .concurrent_batches(concurrent),
    );
    let (project, employee, tag) = (s.project, s.employee, s.tag.clone());
    let ahead = (concurrent + 1) * CHUNK;
    let case_name = case.clone();
    let p = Pipeline::builder("approved-time", store.clone())
        .batch_size(ahead)
        .concurrency(ahead)
        .step(from_fn("timesheet", move |cx| {
            let lines = lines.clone();
            let (tag, case) = (tag.clone(), case_name.clone());
            Box::pin(async move {
                let i = cx.envelope.payload["i"].as_u64().unwrap_or_default() as usize;
                let key = cx.envelope.idempotency_key.clone();
                let row = ImportRow::new()
                    .text("name", name(&tag, &case, i))
                    .many2one("project_id", project)
                    .many2one("employee_id", employee)
                    .text("date", "2026-11-20")
                    .text("unit_amount", hours(i).to_string());
                lines.create_once(cx, &key, &row).await.map(|_| ())
            })
        }))
        .build();
    let envelopes: Vec<JsonEnvelope> = (0..n)
        .map(|i| {
            let key = IdempotencyKey::for_effect(
                "time",
                &format!("{}-{case}-{i}", s.tag),
                "approved",
                "timesheet",
            )
            .expect("key");
            Envelope::builder(key, json!({"i": i}))
                .source("time")
                .legal_entity("BE".parse().unwrap())
                .build()
                .expect("envelope")
                .to_json()
                .expect("json")
        })
        .collect();
    p.submit_batch(&envelopes).await.expect("submit");
    let t = Instant::now();
    let mut done = 0;
    while done < n as u64 {
        let r = p.run_until_idle("bench").await.expect("run");
        done += r.done;
        if store.stats().await.expect("stats").depth == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = t.elapsed();
    let dead = store
        .list_dead_letters(&DeadLetterFilter::all())
        .await
        .expect("dead letters")
        .len();
    let _ = std::fs::remove_dir_all(&dir);
    (took, done as usize, dead)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let Ok(url) = std::env::var("ODOO_URL") else {
        println!("sync_odoo_real: ODOO_URL is not set, nothing to measure");
        return;
    };
    let n: usize = std::env::var("SYNC_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let odoo = OdooClient::builder(url.clone())
        .database(std::env::var("ODOO_DB").unwrap_or_default())
        .api_key(
            std::env::var("ODOO_LOGIN").unwrap_or_else(|_| "admin".into()),
            std::env::var("ODOO_API_KEY").expect("ODOO_API_KEY"),
        )
        .retry(RetryPolicy::none())
        .timeout(Duration::from_secs(600))
        .build()
        .expect("client");
    let (project, employee) = timesheets::project_and_employee(&odoo).await;
    let tag = format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default()
    );
    let s = Server {
        odoo,
        project,
        employee,
        tag,
    };
    println!("{n} timesheet lines on {url}, project {project}, one run per case");
    let rate = |n: usize, d: Duration| n as f64 / d.as_secs_f64();
    // `SYNC_BENCH_IN_FLIGHT=2,1` runs the cases in another order (the table grows as they run).
    let in_flight: Vec<usize> = std::env::var("SYNC_BENCH_IN_FLIGHT")
        .ok()
        .map(|v| v.split(',').filter_map(|k| k.trim().parse().ok()).collect())
        .filter(|v: &Vec<usize>| !v.is_empty())
        .unwrap_or_else(|| vec![1, 2]);
    for k in in_flight {
        let (tc, created) = chunked(&s, n, k).await;
        assert_eq!(created, n);
        let (tl, loaded) = load_chunked(&s, n, k).await;
        assert_eq!(loaded, n);
        let (tp, done, dead) = pipeline(&s, n, k).await;
        println!(
            "{k} in flight: create_chunked {:.0} lines/s; load_chunked {:.0} lines/s ({:.2}x); pipeline exactly once {:.0} lines/s ({done} done, {dead} dead letters): {:.2}x of create_chunked, {:.2}x of load_chunked",
            rate(n, tc),
            rate(n, tl),
            tc.as_secs_f64() / tl.as_secs_f64(),
            rate(n, tp),
            tc.as_secs_f64() / tp.as_secs_f64(),
            tl.as_secs_f64() / tp.as_secs_f64()
        );
    }
}
