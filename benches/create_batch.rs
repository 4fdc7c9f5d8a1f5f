//! Creating 10,000 timesheet lines against the fake Odoo: one request per record, batch create
//! (500 per request), and batch create with 4 requests in flight. Prints the times and ratios.
//!
//! `cargo bench --bench create_batch --features testkit` (set `BENCH_RECORDS` for another count).

use std::time::{Duration, Instant};

use odoo_connect::odoo::models::{Employee, Project};
use odoo_connect::odoo::{Domain, OdooClient, RetryPolicy, Values};
use odoo_connect::testkit::FakeOdoo;
use serde_json::Value;

fn main() {
    // `cargo bench --no-run` builds this; `cargo test --benches` runs it with `--bench` absent.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let n: usize = std::env::var("BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let fake = FakeOdoo::start().await;
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
        let lines: Vec<Values> = (0..n)
            .map(|i| {
                Values::new()
                    .set("name", format!("Work item {i}"))
                    .many2one("project_id", Some(project))
                    .many2one("employee_id", Some(employee))
                    .set("date", "2026-11-20")
                    .set("unit_amount", 0.25 + (i % 8) as f64 * 0.25)
            })
            .collect();
        let h = odoo.model_named::<Value>("account.analytic.line");

        let t = Instant::now();
        for l in &lines {
            h.create(l).await.expect("create");
        }
        let single = t.elapsed();

        let t = Instant::now();
        h.create_chunked(&lines, 500, 1).await.expect("batch");
        let batch = t.elapsed();

        let t = Instant::now();
        h.create_chunked(&lines, 500, 4)
            .await
            .expect("batch in flight");
        let batch4 = t.elapsed();

        let per = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
        println!("create {n} timesheet lines against FakeOdoo");
        println!(
            "  one request per record   {:>9.1} ms  ({:.1} us/record)",
            single.as_secs_f64() * 1e3,
            per(single)
        );
        println!(
            "  batch of 500             {:>9.1} ms  ({:.1} us/record)  {:.1}x faster",
            batch.as_secs_f64() * 1e3,
            per(batch),
            single.as_secs_f64() / batch.as_secs_f64()
        );
        println!(
            "  batch of 500, 4 in flight {:>8.1} ms  ({:.1} us/record)  {:.1}x faster",
            batch4.as_secs_f64() * 1e3,
            per(batch4),
            single.as_secs_f64() / batch4.as_secs_f64()
        );
    });
}
